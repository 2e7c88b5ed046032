"""The show folder: typed values, and one line naming the file and field for each problem."""

from __future__ import annotations

import datetime as dt

import pytest

from media_tool.errors import ConfigError
from media_tool.model.reader import parse_timestamp
from media_tool.model.show import episode_slugs, load_episode, load_show


def test_sample_show_parses(sample_show):
    show = load_show(sample_show)
    assert show.title == {"en": "Social Protection Dialogues", "zh": "社会保障对话"}
    assert show.audio.target_lufs == -16.0 and show.audio.m4a is True
    assert show.audio.intro == "jingles/intro.flac"
    assert show.warnings == ()
    slugs = episode_slugs(show)
    assert slugs == ["ep-001-pensions", "ep-002-sick-leave", "ep-003-long-term-care"]
    ep = load_episode(show, slugs[1])
    assert ep.language == "zh" and ep.number == 2 and ep.source.name == "recording.mp4"
    assert ep.date == dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.timezone.utc)
    assert ep.people[0].name == "李华"
    first = load_episode(show, slugs[0])
    assert [c.start for c in first.chapters] == [0.0, 6.0]


def _write_episode(show_dir, slug, text):
    d = show_dir / "episodes" / slug
    d.mkdir(parents=True, exist_ok=True)
    (d / "episode.toml").write_text(text, encoding="utf-8")
    (d / "recording.wav").write_bytes(b"RIFF")
    return d


def test_bad_number_names_file_and_field(sample_show):
    show = load_show(sample_show)
    _write_episode(sample_show, "ep-003", 'title = "Three"\nnumber = "three"\ndate = 2026-01-01\nlanguage = "en"\n')
    with pytest.raises(ConfigError) as exc:
        load_episode(show, "ep-003")
    assert exc.value.one_line() == 'episodes/ep-003/episode.toml: number: expected a positive integer, got "three"'
    assert exc.value.exit_code == 2


def test_mixed_language_spellings(sample_show):
    """`language = "mixed"` is the show's language first, then the other; a list names the order."""
    show = load_show(sample_show)  # the sample show's language is English
    _write_episode(sample_show, "ep-mixed", 'title = "x"\ndate = 2026-01-01\nlanguage = "mixed"\n')
    ep = load_episode(show, "ep-mixed")
    assert ep.mixed and ep.language == "en"
    ep3 = load_episode(show, "ep-003-long-term-care")
    assert ep3.mixed and ep3.language == "zh"


@pytest.mark.parametrize("body,expected", [
    ('number = 1\ndate = 2026-01-01\nlanguage = "en"\n', "title: missing (required)"),
    ('title = "x"\ndate = 2026-01-01\nlanguage = "fr"\n', 'language: expected one of en, zh, got "fr"'),
    ('title = "x"\ndate = "yesterday"\nlanguage = "en"\n', "date: expected a date like 2026-11-26"),
    ('title = "x"\ndate = 2026-01-01\nlanguage = "en"\nsource = "missing.wav"\n', "source: file not found: missing.wav"),
    ('title = "x"\ndate = 2026-01-01\nlanguage = "en"\n[audio]\ntarget_lufs = 3\n',
     "audio.target_lufs: expected a number from -40 to -5, got 3"),
    ('title = "x"\ndate = 2026-01-01\nlanguage = "en"\n[[chapters]]\nstart = "soon"\ntitle = "a"\n',
     'chapters[0].start: expected seconds, MM:SS or H:MM:SS'),
    ('title = "x"\ndate = 2026-01-01\nlanguage = "en"\n[[chapters]]\nstart = "1:76"\ntitle = "a"\n',
     'chapters[0].start: expected seconds, MM:SS or H:MM:SS (minutes and seconds under 60), got "1:76"'),
    ('title = "Bell\\u0007 and escape\\u001b[31m"\ndate = 2026-01-01\nlanguage = "en"\n', "title: control character U+0007"),
    ('title = "x"\ndate = 0001-01-01\nlanguage = "en"\n', "date: expected a date from 1970 on, got 0001-01-01"),
    ('title = "x"\ndate = 2026-01-01\nlanguage = "en"\n[[people]]\nname = "A"\nhref = "JaVaScRiPt:alert(1)"\n',
     'people[0].href: expected an https:// URL or a path inside the site, got "JaVaScRiPt:alert(1)"'),
    ('title = "x"\ndate = 2026-01-01\nlanguage = "en"\n[[people]]\nname = "A"\nimg = " javascript:x"\n',
     "people[0].img: expected an https:// URL"),
    ('title = "x"\ndate = 2026-01-01\nlanguage = "en"\n[[chapters]]\nstart = 0\ntitle = "a"\nimage = "file:///etc/passwd"\n',
     "chapters[0].image: expected an https:// URL"),
    ('title = "x"\ndate = 2026-01-01\nlanguage = "en"\n[[chapters]]\nstart = 0\ntitle = "a"\nurl = "../../etc/passwd"\n',
     "chapters[0].url: expected an https:// URL"),
    ('title = "x"\ndate = 2026-01-01\nlanguage = "en"\n[[chapters]]\nstart = 0\ntitle = "a"\nurl = "data:text/html,x"\n',
     "chapters[0].url: expected an https:// URL"),
    ('title = "x"\ndate = 2026-01-01\nlanguage = "en"\n[[people]]\nname = "A"\nrole = "hostess"\n',
     "people[0].role: role 'hostess' is not a Podcast Taxonomy role of group 'cast'"),
    ('title = "x"\ndate = 2026-01-01\nlanguage = "en"\ntype = "movie"\n', 'type: expected one of full, trailer, bonus'),
    ('title = "x"\ndate = 2026-01-01\nlanguage = "en"\nexplicit = "no"\n', 'explicit: expected true or false, got "no"'),
    ('title = "x\ndate = 2026-01-01\n', "invalid TOML"),
])
def test_episode_problems(sample_show, body, expected):
    show = load_show(sample_show)
    _write_episode(sample_show, "ep-bad", body)
    with pytest.raises(ConfigError) as exc:
        load_episode(show, "ep-bad")
    line = exc.value.one_line()
    assert line.startswith("episodes/ep-bad/episode.toml: ") and expected in line, line
    assert "\n" not in line


def test_unknown_keys_are_warned(sample_show):
    show = load_show(sample_show)
    _write_episode(sample_show, "ep-extra", 'title = "x"\ndate = 2026-01-01\nlanguage = "en"\n'
                   'colour = "blue"\n[audio]\nloudnes = -16\n')
    ep = load_episode(show, "ep-extra")
    assert "episodes/ep-extra/episode.toml: colour: unknown key (ignored)" in ep.warnings
    assert "episodes/ep-extra/episode.toml: audio.loudnes: unknown key (ignored)" in ep.warnings


def test_show_problems(sample_show):
    toml = (sample_show / "podcast.toml").read_text()
    (sample_show / "podcast.toml").write_text(toml.replace('base_url = "https://podcast.example.org"',
                                                           'base_url = "podcast.example.org"')
                                              + '\nwebsite = "x"\n')
    with pytest.raises(ConfigError) as exc:
        load_show(sample_show)
    assert exc.value.one_line() == 'podcast.toml: base_url: expected an http(s) URL, got "podcast.example.org"'


def test_show_unknown_key_warning(sample_show):
    with open(sample_show / "podcast.toml", "a") as fh:
        fh.write('\n[extras]\nfoo = 1\n')
    assert "podcast.toml: extras: unknown key (ignored)" in load_show(sample_show).warnings


def test_episode_audio_overrides(sample_show):
    show = load_show(sample_show)
    _write_episode(sample_show, "ep-loud", 'title = "x"\ndate = 2026-01-01\nlanguage = "en"\n'
                   '[audio]\ntarget_lufs = -14\ntrim_silence = false\n')
    settings = load_episode(show, "ep-loud").audio(show)
    assert settings.target_lufs == -14.0 and settings.trim_silence is False
    assert settings.intro == "jingles/intro.flac"  # inherited from the show


def test_timestamps():
    assert parse_timestamp("1:02:03.5") == 3723.5
    assert parse_timestamp("0:06") == 6.0 and parse_timestamp("75") == 75.0 and parse_timestamp("90:00") == 5400.0
    assert parse_timestamp(12) == 12.0
    assert parse_timestamp("x") is None and parse_timestamp(-1) is None and parse_timestamp(True) is None
    # Minutes and seconds after a colon stay under 60: a typo is an error, not another time.
    assert parse_timestamp("1:76") is None and parse_timestamp("1:60:00") is None and parse_timestamp("0:59.9") == 59.9
    assert parse_timestamp(float("nan")) is None


def test_a_show_named_by_a_relative_path_is_the_same_show(sample_show, monkeypatch):
    """`--show shows/dialogues` from elsewhere: paths are recorded relative to the show, not to the
    folder the command ran in (they were joined to the root twice)."""
    monkeypatch.chdir(sample_show.parent)
    show = load_show(sample_show.name)
    assert show.root.is_absolute() and show.root == sample_show.absolute()
    assert show.rel(show.root / "episodes" / "ep-001-pensions") == "episodes/ep-001-pensions"
