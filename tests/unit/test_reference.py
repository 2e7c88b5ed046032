"""The README's key reference is the generated one, and every example in it is a valid key."""

from __future__ import annotations

import shutil

from helpers import ROOT

from media_tool.commands import reference
from media_tool.model.show import load_episode, load_show


def test_readme_holds_the_generated_reference():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert reference.markdown() in readme, "run: python scripts/update_readme.py"


def test_every_example_parses_with_no_problem_and_no_unknown_key(tmp_path):
    shutil.copy(ROOT / "cover.jpg", tmp_path / "cover.jpg")
    (tmp_path / "voices").mkdir()
    shutil.copy(ROOT / "episodes" / "ep-001-pensions" / "recording.flac", tmp_path / "voices" / "li-wei.wav")
    show_lines = [ex for key, _, _, _, ex, _ in reference.SHOW if not key.startswith("[[")]
    show_lines += ["[[people]]", 'name = "Li Wei"'] + [ex for key, _, _, _, ex, _ in reference.SHOW
                                                       if key.startswith("[[people]]")]
    (tmp_path / "podcast.toml").write_text("\n".join(show_lines) + "\n", encoding="utf-8")
    show = load_show(tmp_path)
    assert show.warnings == () and show.people[0].voice == "voices/li-wei.wav"
    ep = tmp_path / "episodes" / "ep-001"
    ep.mkdir(parents=True)
    shutil.copy(ROOT / "episodes" / "ep-001-pensions" / "recording.flac", ep / "recording.wav")
    top, chapters, people, clips = [], [], [], ['end = "1:40"']
    for key, _, _, _, example, _ in reference.EPISODE:
        if key.startswith("[[chapters]]"):
            chapters.append(example)
        elif key.startswith("[[clips]]"):
            clips.append(example)
        elif key.startswith("[[people]]"):
            people.append(example)
        elif not key.startswith("["):
            top.append(example)
    text = "\n".join(top + ["[[chapters]]", *chapters, "[[clips]]", *clips, "[[people]]", *people, "[audio]",
                            "target_lufs = -18.0"])
    (ep / "episode.toml").write_text(text + "\n", encoding="utf-8")
    config = load_episode(show, "ep-001")
    assert config.warnings == () and config.chapters and config.people and config.clips
