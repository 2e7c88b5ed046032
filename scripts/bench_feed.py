"""Benchmark: rendering the feed of a 5000-episode show.

    python scripts/bench_feed.py [--episodes 5000]

Builds typed items like a real bilingual show's (transcripts in two languages and four formats,
chapters, people, audio and video enclosures, notes) and times `feed.render`. Target: under 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from media_tool.model.identity import item_guid, podcast_guid
from media_tool.site.feed import Channel, Item, Media, render
from media_tool.text.notes import notes_html


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=5000)
    args = ap.parse_args()
    base = "https://podcast.example.org"
    guid = podcast_guid(f"{base}/feed.xml")
    notes = notes_html("What makes a pension system work for everyone? **Coverage**, basic pensions "
                       "and [contributory insurance](https://example.org).\n\n- one\n- two\n")
    items = []
    start = dt.datetime(2010, 1, 1, tzinfo=dt.timezone.utc)
    for n in range(args.episodes):
        slug = f"ep-{n:05d}"
        transcripts = tuple((f"{base}/transcripts/{slug}/{slug}.{lg}.{ext}", mime, lg)
                            for lg in ("en", "zh") for ext, mime in
                            (("srt", "application/x-subrip"), ("vtt", "text/vtt"), ("json", "application/json"),
                             ("txt", "text/plain")))
        items.append(Item(slug=slug, guid=item_guid(guid, slug), title=f"Episode {n}: pensions 养老金",
                          date=start + dt.timedelta(days=n), duration=1800 + n % 600,
                          media=(Media("mp3", f"{base}/media/{slug}.mp3", 28_000_000),
                                 Media("mp4", f"{base}/media/{slug}.mp4", 300_000_000)),
                          summary="What makes a pension system work for everyone?", html=notes, number=n + 1,
                          season=1 + n // 100, transcripts=transcripts, chapters=f"{base}/chapters/{slug}.json",
                          people=(("Alex Morgan", "host", "cast", None, None),)))
    channel = Channel(title="Social Protection Dialogues", description="Conversations.", link=base,
                      feed_url=f"{base}/feed.xml", language="en", author="Outreach", owner_name="Team",
                      owner_email="podcast@example.org", image=f"{base}/cover.jpg", categories=("Government",),
                      explicit=False, locked=True, guid=guid, items=tuple(items))
    t0 = time.perf_counter()
    data = render(channel)
    seconds = time.perf_counter() - t0
    print(f"{args.episodes} episodes: feed rendered in {seconds:.2f} s ({len(data) / 2**20:.1f} MB) (target < 2 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
