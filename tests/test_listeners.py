"""Listeners in China, round 2, on the built sample show: feeds an app can follow in each edition,
a Chinese feed with no English leftovers, search that works on a plain static host (driven in
headless Chromium), a player with speed, ±15 s and resume, and captions burned with no system font."""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import threading
from urllib.parse import quote

import feedparser
import pytest
from helpers import psnr
from lxml import etree
from test_serve import running  # noqa: F401  (a fixture)
from test_site import NEEDS_CHROMIUM, _wait

from media_tool.text.script import HAN

BASE = "https://podcast.example.org"


def test_every_item_links_to_its_page_in_the_feeds_edition(built_template):
    feed = built_template[0] / "feed"
    for name, prefix in (("feed.xml", ""), ("feed.zh.xml", "zh/"), ("feed.video.zh.xml", "zh/")):
        parsed = feedparser.parse(str(feed / name))
        assert parsed.feed.link == f"{BASE}/{prefix}", name
        assert parsed.entries
        for e in parsed.entries:
            slug = e.id and re.search(r"/episodes/([a-z0-9-]+)/$", e.link)[1]
            assert e.link == f"{BASE}/{prefix}episodes/{slug}/", (name, e.link)
            assert (feed / f"{prefix}episodes/{slug}/index.html").is_file()  # the page is there


def test_the_chinese_feed_has_no_english_leftovers(built_template):
    feed = built_template[0] / "feed"
    root = etree.parse(str(feed / "feed.zh.xml")).getroot()
    ns = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "content": "http://purl.org/rss/1.0/modules/content/"}
    assert HAN.search(root.findtext("channel/itunes:author", namespaces=ns))
    video = etree.parse(str(feed / "feed.video.zh.xml")).getroot().findtext("channel/title")
    assert video.endswith("（视频）") and "(video)" not in video
    for item in root.iter("item"):
        html = item.findtext("content:encoded", namespaces=ns)
        assert "(guest)" not in html and "(host)" not in html, html
        assert len(html) <= 8000
        links = [t.get("language") for t in item.iter("{https://podcastindex.org/namespace/1.0}transcript")]
        assert links and links[0].startswith("zh"), links  # the Chinese transcript first
        # the description opens in Chinese (ep-003's notes.md has its English paragraph first)
        assert HAN.search(item.findtext("description")[:12]), item.findtext("description")[:80]
    assert "嘉宾" in etree.tostring(root, encoding="unicode")


@pytest.fixture(scope="module")
def static_host(built_template):
    """feed/ served by Python's plain static file server: no `media-tool serve`, no /_search."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built_template[0] / "feed"))

    class Quiet(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass

    handler.log_message = lambda *a: None
    server = Quiet(("127.0.0.1", 0), handler)
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _hits(driver, host, path, query):
    from selenium.webdriver.common.by import By

    driver.get(f"{host}/{path}?q={quote(query)}")
    _wait(driver, lambda: driver.find_element(By.ID, "status").text and "…" not in driver.find_element(By.ID, "status").text)
    return [(a.get_attribute("href"), p.text) for a, p in
            zip(driver.find_elements(By.CSS_SELECTOR, "#hits a"), driver.find_elements(By.CSS_SELECTOR, "#hits .said"))]


@NEEDS_CHROMIUM
def test_the_public_search_box_works_on_a_plain_static_host(static_host, browser, built_template):
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(static_host + "/zh/")
    box = driver.find_element(By.CSS_SELECTOR, "form.search input[name=q]")
    box.send_keys("养老金")
    driver.find_element(By.CSS_SELECTOR, "form.search button").click()
    _wait(driver, lambda: "/zh/search/" in driver.current_url and driver.find_elements(By.CSS_SELECTOR, "#hits a"))
    simplified = _hits(driver, static_host, "zh/search/", "养老金")
    assert simplified and all("养老金" in said or "pension" in said.lower() for _, said in simplified)
    href = simplified[0][0]
    assert re.search(r"/zh/episodes/[a-z0-9-]+/#t=\d", href), href
    # Traditional characters typed find the Simplified transcript; the glossary finds the other language
    assert {h for h, _ in _hits(driver, static_host, "zh/search/", "養老金")} == {h for h, _ in simplified}
    english = _hits(driver, static_host, "search/", "pensions")
    assert any("pension" in said.lower() for _, said in english)
    assert any(HAN.search(said) for _, said in english)  # 养老金, by the glossary
    assert _hits(driver, static_host, "search/", "zxqv") == []
    assert "No hits" in driver.find_element(By.ID, "status").text


@NEEDS_CHROMIUM
def test_the_player_skips_changes_speed_and_resumes(running, browser):  # noqa: F811 (serve: players seek by Range)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    page = running + "/episodes/ep-001-pensions/"
    driver.get(page)
    driver.execute_script("localStorage.clear()")
    driver.get(page)
    player = lambda: driver.find_element(By.ID, "player")  # noqa: E731
    _wait(driver, lambda: driver.execute_script("return arguments[0].readyState >= 1", player()))
    assert driver.find_element(By.ID, "controls").is_displayed()
    driver.find_element(By.CSS_SELECTOR, "[data-skip='15']").click()
    assert abs(driver.execute_script("return arguments[0].currentTime", player()) - 15) < 0.5
    driver.find_element(By.CSS_SELECTOR, "[data-skip='-15']").click()
    assert driver.execute_script("return arguments[0].currentTime", player()) < 0.5
    Select(driver.find_element(By.ID, "speed")).select_by_value("1.5")
    assert driver.execute_script("return arguments[0].playbackRate", player()) == 1.5
    at = max(11.0, round(driver.execute_script("return arguments[0].duration", player()) * 0.6, 1))
    driver.execute_script(f"arguments[0].currentTime = {at}", player())
    _wait(driver, lambda: float(driver.execute_script(
        "return localStorage.getItem('media-tool:at:' + location.pathname) || 0")) > at - 1)
    driver.get(page)  # the next visit starts where the listener stopped, at the speed they chose
    _wait(driver, lambda: abs(driver.execute_script("return arguments[0].currentTime", player()) - at) < 1)
    assert driver.execute_script("return arguments[0].playbackRate", player()) == 1.5
    assert driver.find_element(By.ID, "resume").is_displayed()
    # the share block, near the top, holds the QR code, the link and this edition's embed
    share = driver.find_element(By.ID, "share")
    assert share.location["y"] < driver.find_element(By.ID, "transcript").location["y"]
    assert share.find_element(By.CSS_SELECTOR, "svg.qr-code").is_displayed()
    assert "/embed/ep-001-pensions.en.html" in share.find_element(By.TAG_NAME, "textarea").get_attribute("value")
    driver.execute_script("localStorage.clear()")


def test_captions_are_burned_with_the_pip_installed_font_when_no_system_font_exists(tmp_path, media, monkeypatch):
    from media_tool.media import video
    from media_tool.media.ffmpeg import FFmpeg
    from media_tool.text.layout import captioned_frame, to_ass
    from media_tool.text.transcripts import Segment, Transcript

    empty = tmp_path / "fonts"
    empty.mkdir()
    conf = tmp_path / "fonts.conf"  # fontconfig sees no font at all
    conf.write_text(f'<?xml version="1.0"?><fontconfig><dir>{empty}</dir><cachedir>{tmp_path}/c</cachedir></fontconfig>')
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    assert subprocess.run(["fc-list"], capture_output=True, text=True, env={"FONTCONFIG_FILE": str(conf)}).stdout == ""
    ff = FFmpeg.discover()
    assert video.missing_tools(ff) is None
    family, folder = video.caption_font()
    assert family == "Noto Sans SC" and [p.name for p in folder.iterdir()] == ["NotoSansSC-Regular.otf"]
    master = tmp_path / "master.mp4"  # four seconds of the 320x180 test video
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(media["video.mp4"]), "-t", "4", "-c:v", "libx264", "-preset",
                    "ultrafast", "-crf", "18", "-c:a", "aac", str(master)], check=True)
    w, h = captioned_frame(320, 180)
    ass = to_ass(Transcript("zh", (Segment(0.5, 4, "覆盖面扩大了。"),)),
                 Transcript("en", (Segment(0.5, 4, "Coverage grew."),)), w, h, font=family)
    dest = tmp_path / "out.mp4"
    video.burn(ff, master, dest, ass, seconds=4.0, display="out.mp4", size=(w, h))
    top = psnr(master, dest, 2.0, f"scale={w}:{h},crop=iw:ih/3:0:0")
    bottom = psnr(master, dest, 2.0, f"scale={w}:{h},crop=iw:ih/3:0:2*ih/3")
    assert top > 30 and bottom < top - 8, (top, bottom)  # drawn, in the lower third only


def test_a_title_and_chapter_the_machine_translated_are_marked_on_the_page():
    import datetime as dt

    from markupsafe import Markup

    from media_tool.model.show import Chapter
    from media_tool.site.feed import Item, Media
    from media_tool.site.pages import (
        MACHINE_MARK,
        SiteEpisode,
        _environment,
        episode_context,
    )

    class Show:
        base_url, cover, title = "https://x.org", None, {"en": "Show"}

    item = Item("ep-1", "g", "养老金", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), 60,
                (Media("mp3", "https://x.org/media/ep-1.mp3", 1),), "", "")
    chapters = (Chapter(0.0, {"en": "Welcome", "zh": "欢迎"}), Chapter(5.0, {"en": "Pensions", "zh": "养老金"}))
    ep = SiteEpisode(items={"zh": item}, spoken="en", transcripts={}, chapters=chapters,
                     machine=frozenset({"title.zh", "chapter.1.zh"}))
    ctx = episode_context(Show(), ep, "../../", lang="zh")
    assert ctx["title_machine"] and [c["machine"] for c in ctx["chapters"]] == [False, True]
    page = _environment(None).get_template("episode.html").render(
        show={"title": "Show", "url": "https://x.org"}, ep=ctx, root="../../", home="../../", page_lang="zh-CN",
        ui={}, links=None, qr=Markup(""))
    h1 = page[page.index("<h1>"):page.index("</h1>")]
    assert MACHINE_MARK in h1 and page.count(MACHINE_MARK) == 2  # the title and the second chapter only
