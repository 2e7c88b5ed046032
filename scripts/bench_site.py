"""Benchmark: rendering the static site of a 500-episode show, with the feed of the same show for comparison.

    python scripts/bench_site.py [--episodes 500] [--minutes 30]

Synthetic bilingual episodes (a 30-minute transcript each: a segment every 4.5 s in both languages,
chapters, people, audio + video), rendered by `site.render` (home, episode pages, embeds) and
written as the publish step writes them (`write_if_changed`, twice: the second run writes nothing);
then `feed.render` of the same items. Target: the site in <= 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from media_tool.model.identity import item_guid, podcast_guid
from media_tool.model.show import Chapter
from media_tool.site import pages as site
from media_tool.site.feed import Channel, Item, Media, render
from media_tool.store.files import write_if_changed
from media_tool.text.notes import notes_html
from media_tool.text.transcripts import Segment, Transcript

EN = ["Pensions protect people in old age.", "Coverage matters most for informal workers.",
      "Sick pay lets workers rest without worry.", "Unemployment insurance helps people between jobs."]
ZH = ["养老金保障人们的老年生活。", "覆盖面对非正规就业者最重要。", "病假工资让工人安心休息。", "失业保险帮助人们度过失业期。"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=500)
    ap.add_argument("--minutes", type=float, default=30)
    a = ap.parse_args()
    base = "https://podcast.example.org"
    guid = podcast_guid(f"{base}/feed.xml")
    notes = notes_html("What makes a pension system work for everyone? **Coverage**, basic pensions "
                       "and [contributory insurance](https://example.org).\n\n- one\n- two\n")
    seconds = a.minutes * 60
    n_segs = int(seconds / 4.5)
    spoken = {lg: Transcript(lg, tuple(Segment(i * 4.5, i * 4.5 + 4.0, texts[i % 4]) for i in range(n_segs)),
                             "model:faster-whisper:base" if lg == "en" else "translation:openai")
              for lg, texts in (("en", EN), ("zh", ZH))}
    chapters = tuple(Chapter(start=k * 300.0, title={"en": f"Part {k + 1}", "zh": f"第{k + 1}部分"})
                     for k in range(int(seconds // 300)))
    start = dt.datetime(2016, 1, 1, tzinfo=dt.timezone.utc)
    episodes, items = [], []
    for n in range(a.episodes):
        slug = f"ep-{n:04d}"
        per_lang = {}
        for lg in ("en", "zh"):
            transcripts = tuple((f"{base}/transcripts/{slug}/{slug}.{l2}.{ext}", mime, l2) for l2 in ("en", "zh")
                                for ext, mime in (("srt", "application/x-subrip"), ("vtt", "text/vtt"),
                                                  ("json", "application/json"), ("txt", "text/plain")))
            per_lang[lg] = Item(slug=slug, guid=item_guid(guid, slug), title=f"Episode {n}: pensions 养老金",
                                date=start + dt.timedelta(days=3 * n), duration=int(seconds),
                                media=(Media("mp3", f"{base}/media/{slug}.mp3", 28_000_000),
                                       Media("mp4", f"{base}/media/{slug}.mp4", 300_000_000)),
                                summary="What makes a pension system work for everyone?", html=notes, number=n + 1,
                                transcripts=transcripts, chapters=f"{base}/chapters/{slug}.json",
                                people=(("Alex Morgan", "host", "cast", None, None),
                                        ("李华", "guest", "cast", "https://example.org/li", None)))
        items.append(per_lang)
        episodes.append(site.SiteEpisode(items=per_lang, spoken="en", transcripts=spoken, chapters=chapters,
                                         notes=(("en", notes),)))
    show = SimpleNamespace(root=Path(tempfile.mkdtemp()), language="en", base_url=base, cover="cover.jpg",
                           title={"en": "Social Protection Dialogues", "zh": "社会保障对话"},
                           description={"en": "Conversations.", "zh": "对话。"})
    feeds = [("feed.xml", "Audio · English", "en"), ("feed.zh.xml", "Audio · 中文", "zh")]
    t0 = time.perf_counter()
    files = site.render(show, episodes, {"en": [i["en"] for i in items], "zh": [i["zh"] for i in items]}, feeds)
    t_render = time.perf_counter() - t0
    out = Path(tempfile.mkdtemp())
    t0 = time.perf_counter()
    for rel, data in files.items():
        write_if_changed(out / rel, data)
    t_write = time.perf_counter() - t0
    t0 = time.perf_counter()
    files = site.render(show, episodes, {"en": [i["en"] for i in items], "zh": [i["zh"] for i in items]}, feeds)
    rewritten = sum(write_if_changed(out / rel, data) for rel, data in files.items())
    t_again = time.perf_counter() - t0
    channel = Channel(title="Social Protection Dialogues", description="Conversations.", link=base,
                      feed_url=f"{base}/feed.xml", language="en", author="Outreach", owner_name="Team",
                      owner_email="podcast@example.org", image=f"{base}/cover.jpg", categories=("Government",),
                      explicit=False, locked=True, guid=guid, items=tuple(i["en"] for i in items))
    t0 = time.perf_counter()
    render(channel)
    t_feed = time.perf_counter() - t0
    size = sum(len(d) for d in files.values())
    print(f"{a.episodes} episodes of {a.minutes:g} min ({n_segs} segments a language each): {len(files)} files, "
          f"{size / 2**20:.0f} MB")
    print(f"site render          {t_render:6.2f} s")
    print(f"site first write     {t_write:6.2f} s")
    print(f"site rebuild         {t_again:6.2f} s  (render + compare; {rewritten} files rewritten)")
    print(f"site total (first)   {t_render + t_write:6.2f} s  (target <= 5 s)")
    print(f"feed render          {t_feed:6.2f} s  (the same {a.episodes} items, for comparison)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
