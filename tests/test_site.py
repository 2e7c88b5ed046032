"""The static site in feed/: valid HTML whose links resolve inside feed/, deterministic pages, and the
episode pages driven in headless Chromium (seek on click, the spoken line marked, #t= links, subtitle
tracks, nothing fetched from another host, a 375-px phone without sideways scrolling)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import html5lib
import pytest
from helpers import build_json
from test_serve import CHROMIUM, DRIVER, _chromium, running  # noqa: F401  (running is a fixture)

ARTIFACTS = Path(os.environ.get("MEDIA_TOOL_ARTIFACTS", Path(__file__).parent / "artifacts"))
NEEDS_CHROMIUM = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                    reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")


def pages(feed: Path) -> list[Path]:
    return sorted(feed.rglob("*.html"))


def test_pages_parse_and_every_local_link_resolves(built_template):
    feed = built_template[0] / "feed"
    found = {p.relative_to(feed).as_posix() for p in pages(feed)}
    assert {"index.html", "episodes/ep-001-pensions/index.html", "episodes/ep-002-sick-leave/index.html",
            "embed/ep-001-pensions.html", "embed/ep-002-sick-leave.html"} <= found
    for page in pages(feed):
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        doc = parser.parse(page.read_bytes())  # raises on any parse error
        assert doc.get("lang") in ("en", "zh-CN"), page
        for el in doc.iter():
            for attr in ("href", "src", "poster"):
                url = el.get(attr)
                if not url or url.startswith("#"):
                    continue
                parts = urlsplit(url)
                if parts.scheme or parts.netloc:  # other hosts only as links a person follows (people's pages),
                    # or as the page's names for itself (canonical, hreflang twins, feeds): never fetched
                    assert el.tag == "a" or (el.tag == "link" and el.get("rel") in ("alternate", "canonical")), \
                        (page, url)
                    continue
                if parts.path == "_search":  # served by `media-tool serve` (the search API needs a server)
                    continue
                target = (page.parent / unquote(parts.path)).resolve()
                if url.endswith("/"):
                    target = target / "index.html"
                assert target.is_file() and feed.resolve() in target.parents, (page, url)


def test_home_lists_every_episode_newest_first_and_every_feed(built_template):
    feed = built_template[0] / "feed"
    home = (feed / "index.html").read_text(encoding="utf-8")
    assert home.index("episodes/ep-002-sick-leave/") < home.index("episodes/ep-001-pensions/")
    for name in ("feed.xml", "feed.zh.xml", "feed.video.xml", "feed.video.zh.xml"):
        assert f'href="{name}"' in home
    assert "社会保障对话" in home and "Social Protection Dialogues" in home
    page = (feed / "episodes" / "ep-002-sick-leave" / "index.html").read_text(encoding="utf-8")
    for prop in ("og:title", "og:description", "og:image", "og:video"):
        assert f'property="{prop}"' in page
    assert 'srclang="zh-CN"' in page and 'srclang="en"' in page  # the video's subtitle tracks
    assert "clips/ep-002-sick-leave-0m01s-0m09s-9x16.mp4" in page  # the configured clip is listed


def test_rebuild_is_byte_identical_and_templates_can_be_overridden(built_show):
    feed = built_show / "feed"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in pages(feed)}
    code, _ = build_json(built_show)
    assert code == 0
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in pages(feed)} == before  # not even rewritten
    (built_show / "templates").mkdir()
    (built_show / "templates" / "index.html").write_text(
        '{% extends "base.html" %}{% block body %}<h1>Our own home</h1>'
        '{% for e in episodes %}<a href="episodes/{{ e.slug }}/">{{ e.title }}</a>{% endfor %}{% endblock %}',
        encoding="utf-8")
    code, _ = build_json(built_show)
    assert code == 0
    home = (feed / "index.html").read_text(encoding="utf-8")
    assert "<h1>Our own home</h1>" in home and "Pensions for everyone" in home
    assert (feed / "episodes" / "ep-001-pensions" / "index.html").read_bytes() == \
        before[feed / "episodes" / "ep-001-pensions" / "index.html"][0]


def _wait(driver, condition, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the page")


@NEEDS_CHROMIUM
def test_episode_pages_in_headless_chromium(running, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver = browser
    try:
        driver.set_window_size(1280, 900)
        driver.get(running + "/")
        links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "ol.episodes a")]
        assert [urlsplit(u).path for u in links] == ["/episodes/ep-003-long-term-care/", "/episodes/ep-002-sick-leave/",
                                                     "/episodes/ep-001-pensions/"]
        for url in links:
            slug = urlsplit(url).path.split("/")[2]
            driver.get(url)
            _wait(driver, lambda: driver.execute_script("return document.getElementById('player').readyState >= 1"))
            lines = driver.find_elements(By.CSS_SELECTOR, "#transcript li")
            assert len(lines) >= 3
            # both languages (a mixed episode's English answer, with no translator here, is shown once)
            assert all(li.find_elements(By.CSS_SELECTOR, "p.translation") for li in lines
                       if li.find_element(By.CSS_SELECTOR, "p.spoken").get_attribute("lang") == "zh-CN"
                       or slug != "ep-003-long-term-care")
            middle = lines[len(lines) // 2]
            start = float(middle.get_attribute("data-start"))
            driver.execute_script("document.getElementById('player').muted = true")
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", middle)
            middle.find_element(By.TAG_NAME, "p").click()  # a click on the line seeks there and plays
            t = _wait(driver, lambda: driver.execute_script(
                "const p = document.getElementById('player'); return p.currentTime > 0 && p.currentTime"))
            assert abs(t - start) < 1.0, (slug, t, start)
            # While it plays, the marked line is the one being spoken.
            _wait(driver, lambda: driver.execute_script("return document.getElementById('player').currentTime")
                  > start + 0.3)
            state = driver.execute_script(
                "const p = document.getElementById('player'); p.pause();"
                "const li = document.querySelector('#transcript li[aria-current=\"true\"]');"
                "return [p.currentTime, li && +li.dataset.start, li && +li.dataset.end]")
            assert state[1] is not None and state[1] - 0.3 <= state[0] <= state[2] + 0.3, (slug, state)
            driver.save_screenshot(str(ARTIFACTS / f"{slug}-1280.png"))
            # A link to a moment starts there.
            driver.get(url + "#t=10")
            _wait(driver, lambda: abs(driver.execute_script(
                "return document.getElementById('player').currentTime") - 10) < 0.5)
            if slug == "ep-002-sick-leave":  # the video: zh and en subtitle tracks that load
                cues = _wait(driver, lambda: driver.execute_script(
                    "const tt = [...document.getElementById('player').textTracks];"
                    "tt.forEach(t => t.mode = 'hidden');"
                    "return tt.every(t => t.cues && t.cues.length) && tt.map(t => [t.language, t.cues.length, t.label])"))
                # each language, and the bilingual pair (Chinese over English) as a choice
                assert sorted((c[0], c[2]) for c in cues) == [("en", "English"), ("zh-CN", "中文"),
                                                                ("zh-CN", "中文 + English")]
            # Nothing came from another host.
            origins = driver.execute_script(
                "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin)")
            assert set(origins) <= {running}, origins
            # A phone: no sideways scrolling.
            driver.set_window_size(375, 800)
            driver.get(url)
            _wait(driver, lambda: driver.execute_script("return document.readyState === 'complete'"))
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, (slug, overflow)
            driver.save_screenshot(str(ARTIFACTS / f"{slug}-375.png"))
            driver.set_window_size(1280, 900)
    finally:
        driver.set_window_size(800, 600)


@NEEDS_CHROMIUM
def test_embed_player_shows_the_current_line(running, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    driver = browser
    try:
        driver.get(running + "/embed/ep-001-pensions.html#t=6")
        _wait(driver, lambda: abs(driver.execute_script(
            "return document.getElementById('player').currentTime") - 6) < 0.5)
        _wait(driver, lambda: driver.find_element(By.ID, "now").text.strip())
        line = driver.find_element(By.ID, "now").text
        assert "pensions" in line.lower() or "养老金" in line, line
    finally:
        driver.set_window_size(800, 600)


@NEEDS_CHROMIUM
def test_search_page_query_in_the_url_grouped_hits_and_no_hits(running, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser
    try:
        # staff's fuller search under `serve` (the public box searches a static index: test_listeners)
        driver.get(running + "/_search")
        box = driver.find_element(By.ID, "q")
        box.send_keys("养老金", Keys.ENTER)
        _wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, ".episode-hits .hit"))
        assert "q=%E5%85%BB%E8%80%81%E9%87%91" in driver.current_url
        sections = driver.find_elements(By.CSS_SELECTOR, ".episode-hits")
        assert sections and all(s.find_element(By.CSS_SELECTOR, "h2 a").get_attribute("href").endswith("/")
                                for s in sections)
        hit = next(h for h in driver.find_elements(By.CSS_SELECTOR, ".episode-hits .hit")
                   if h.find_elements(By.CSS_SELECTOR, ".context") and h.find_elements(By.TAG_NAME, "mark"))
        assert hit.find_element(By.TAG_NAME, "mark").text in ("养老金", "养老", "老金")  # a line of context around it
        assert "words" in hit.text  # how it was found
        link = hit.find_element(By.CSS_SELECTOR, "a[href*='/episodes/']").get_attribute("href")
        assert re.search(r"/episodes/ep-00\d-[a-z-]+/#t=\d+\.\d$", link), link
        hit.find_element(By.TAG_NAME, "button").click()  # the inline player plays the hit from its moment
        start = float(re.search(r"#t=([\d.]+)", link)[1])
        t = _wait(driver, lambda: driver.execute_script(
            "const p = document.getElementById('player'); return p.currentTime > 0 && p.currentTime"))
        assert abs(t - start) < 1.0
        box = driver.find_element(By.ID, "q")
        box.clear()
        box.send_keys("football match results", Keys.ENTER)  # off-topic: nothing by words or meaning
        _wait(driver, lambda: "No hits" in driver.find_element(By.ID, "status").text)
        assert "中文" in driver.find_element(By.ID, "status").text  # suggests the other language
        driver.back()  # Back returns to the previous query
        _wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, ".episode-hits .hit"))
        assert driver.find_element(By.ID, "q").get_attribute("value") == "养老金"
    finally:
        driver.set_window_size(800, 600)


def test_site_renders_for_a_show_without_video_or_chinese(tmp_path):
    """A held-out shape: one English audio episode, nothing in Chinese anywhere, no cover."""
    import shutil

    from helpers import ROOT, copy_show

    show = copy_show(ROOT, tmp_path / "show")
    for slug in ("ep-002-sick-leave", "ep-003-long-term-care"):
        shutil.rmtree(show / "episodes" / slug)
        shutil.rmtree(show / "transcripts" / slug, ignore_errors=True)
    toml = (show / "podcast.toml").read_text(encoding="utf-8")
    toml = re.sub(r'(?m)^cover = .*\n', "", toml)
    toml = re.sub(r'(?m)^title = .*$', 'title = "Social Protection Dialogues"', toml, count=1)
    toml = re.sub(r'(?m)^description = .*$', 'description = "Conversations on social protection."', toml, count=1)
    toml = re.sub(r'(?m)^languages = .*$', 'languages = ["en"]', toml)
    toml = re.sub(r'(?m)^author = .*$', 'author = "Social Protection Outreach Programme"', toml)
    (show / "podcast.toml").write_text(toml, encoding="utf-8")
    ep = show / "episodes" / "ep-001-pensions" / "episode.toml"
    ep.write_text(re.sub(r'title = \{ en = ("[^"]*"), zh = "[^"]*" \}', r"title = \1", ep.read_text(encoding="utf-8")),
                  encoding="utf-8")
    assert not HAN.search(ep.read_text(encoding="utf-8") + toml)
    p = subprocess.run([sys.executable, "-m", "media_tool", "build", "--show", str(show), "--json"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["failed"] == 0
    feed = show / "feed"
    home = (feed / "index.html").read_text(encoding="utf-8")
    assert "episodes/ep-001-pensions/" in home and "ep-002" not in home and "feed.video" not in home
    assert not (feed / "zh").exists() and not (feed / "feed.zh.xml").exists()  # no Chinese edition to show
    assert 'class="edition"' not in home and 'class="cover"' not in home
    for page in pages(feed):
        doc = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page.read_bytes())
        assert doc.get("lang") == "en", page


HAN = re.compile(r"[\u4e00-\u9fff]")


def test_a_chinese_edition_with_its_own_words_links_and_feeds(built_template):
    """The Chinese listener's site: zh/ beside the English root, each page in Chinese first, linked to
    its English twin by hreflang and a switch; feed.zh.xml Chinese in every item's title and notes."""
    import feedparser

    feed = built_template[0] / "feed"
    base = "https://podcast.example.org"
    home = (feed / "index.html").read_text(encoding="utf-8")
    assert 'href="zh/" hreflang="zh-CN"' in home
    zh_home = (feed / "zh" / "index.html").read_text(encoding="utf-8")
    doc = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(zh_home)
    assert doc.get("lang") == "zh-CN" and HAN.search(doc.find("head/title").text)
    slugs = sorted(p.name for p in (feed / "episodes").iterdir())
    for slug in slugs:
        assert f'href="episodes/{slug}/"' in zh_home
        page = (feed / "zh" / "episodes" / slug / "index.html").read_text(encoding="utf-8")
        doc = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)
        assert doc.get("lang") == "zh-CN"
        assert HAN.search(doc.find("head/title").text), slug
        og = {m.get("property"): m.get("content") for m in doc.iter("meta") if m.get("property")}
        assert HAN.search(og["og:title"]) and og["og:url"] == f"{base}/zh/episodes/{slug}/"
        assert og["og:image"].endswith("cover.jpg")
        alternates = {link.get("hreflang"): link.get("href") for link in doc.iter("link") if link.get("hreflang")}
        assert alternates == {"en": f"{base}/episodes/{slug}/", "zh-CN": f"{base}/zh/episodes/{slug}/",
                              "x-default": f"{base}/episodes/{slug}/"}
        assert re.search(r"<svg[^>]*class=\"qr-code\"", page)  # inline, no script
        assert doc.find(".//h1").text and HAN.search(doc.find(".//h1").text)
        en_page = (feed / "episodes" / slug / "index.html").read_text(encoding="utf-8")
        assert f'href="../../zh/episodes/{slug}/"' in en_page
    video = (feed / "zh" / "episodes" / "ep-002-sick-leave" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<track [^>]*srclang="zh-CN"[^>]*default>', video)
    assert not re.search(r'<track [^>]*srclang="en"[^>]*default>', video)
    for item in feedparser.parse(str(feed / "feed.zh.xml")).entries:
        assert HAN.search(item.title), item.title
        text = re.sub(r"<[^>]+>", "", item.summary)
        assert len(HAN.findall(text)) > 10, (item.title, text[:80])
    # An English episode's Chinese notes are the machine's, and say so.
    zh_item = next(e for e in feedparser.parse(str(feed / "feed.zh.xml")).entries if "养老金" in e.title)
    assert "机器翻译" in zh_item.summary


def test_the_video_shows_a_still_of_itself_before_it_plays(built_template):
    """The poster is a frame of the video (its size, not the cover's), on the episode page in both
    editions and in the embed; an audio episode has none."""
    feed = built_template[0] / "feed"
    poster = feed / "art" / "ep-002-sick-leave.poster.jpg"
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(poster)],
                                      capture_output=True, text=True, check=True).stdout)["streams"][0]
    video = json.loads(subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                                       "-select_streams", "v:0", str(feed / "media" / "ep-002-sick-leave.mp4")],
                                      capture_output=True, text=True, check=True).stdout)["streams"][0]
    assert probe["codec_name"] == "mjpeg" and (probe["width"], probe["height"]) == (video["width"], video["height"])
    for page, src in ((feed / "episodes" / "ep-002-sick-leave" / "index.html", "../../art/ep-002-sick-leave.poster.jpg"),
                      (feed / "zh" / "episodes" / "ep-002-sick-leave" / "index.html",
                       "../../../art/ep-002-sick-leave.poster.jpg"),
                      (feed / "embed" / "ep-002-sick-leave.html", "../art/ep-002-sick-leave.poster.jpg")):
        assert f'poster="{src}"' in page.read_text(encoding="utf-8"), page
    assert not (feed / "art" / "ep-001-pensions.poster.jpg").exists()


@NEEDS_CHROMIUM
def test_the_chinese_edition_in_chromium_and_its_qr_codes_scan(running, browser):  # noqa: F811
    """From the English home, one click to the Chinese edition; each episode page there at 375 and 1280
    px, its QR code read back from a screenshot naming that page's own address."""
    import io

    import zxingcpp
    from PIL import Image
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver = browser
    try:
        driver.set_window_size(375, 800)
        driver.get(running + "/")
        driver.find_element(By.CSS_SELECTOR, "p.edition a").click()
        _wait(driver, lambda: driver.execute_script("return document.documentElement.lang") == "zh-CN")
        assert urlsplit(driver.current_url).path == "/zh/" and HAN.search(driver.title)
        links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "ol.episodes a")]
        assert len(links) == 3
        for url in links:
            slug = urlsplit(url).path.split("/")[3]
            for width in (375, 1280):
                driver.set_window_size(width, 900)
                driver.get(url)
                _wait(driver, lambda: driver.execute_script("return document.readyState === 'complete'"))
                assert HAN.search(driver.title)
                overflow = driver.execute_script(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert overflow <= 0, (slug, width, overflow)
                driver.save_screenshot(str(ARTIFACTS / f"zh-{slug}-{width}.png"))
            qr = driver.find_element(By.CSS_SELECTOR, "figure.qr")
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", qr)
            shot = Image.open(io.BytesIO(driver.get_screenshot_as_png()))
            found = [r.text for r in zxingcpp.read_barcodes(shot)]
            assert found == [f"https://podcast.example.org/zh/episodes/{slug}/"], (slug, found)
            if slug == "ep-002-sick-leave":  # the video: the Chinese track shows by default
                langs = _wait(driver, lambda: driver.execute_script(
                    "return [...document.getElementById('player').textTracks]"
                    ".filter(t => t.mode === 'showing').map(t => t.language)"))
                assert langs == ["zh-CN"], langs
    finally:
        driver.set_window_size(800, 600)
