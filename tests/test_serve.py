"""`media-tool serve`: the search page in headless Chromium, typing a real Chinese query."""

from __future__ import annotations

import json
import shutil
import threading
import urllib.request

import pytest

from media_tool.serve import server

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture()
def running(built_show):
    from media_tool.search import SQLiteIndex

    index = SQLiteIndex(built_show / ".media-tool" / "search.sqlite3", readonly=True)
    srv = server(built_show / "feed", index, port=0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def test_api_files_and_read_only(running):
    code, body = get(running + "/_search/api?q=" + urllib.parse.quote("养老"))
    hits = json.loads(body)
    assert code == 200 and hits and hits[0]["local_url"].startswith("/media/ep-002-sick-leave.mp3#t=")
    code, body = get(running + "/media/ep-001-pensions.mp3")
    assert code == 200 and body[:3] == b"ID3"
    assert get(running + "/../podcast.toml")[0] == 404
    assert get(running + "/%2e%2e/podcast.toml")[0] == 404
    req = urllib.request.Request(running + "/_search/api?q=x", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    assert exc.value.code == 501
    code, body = get(running + "/_search/api?q=" + urllib.parse.quote('") OR 1=1 --'))
    assert code == 200 and json.loads(body) == []


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")
def test_search_page_in_headless_chromium(running):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try:
        driver.get(running + "/_search")
        box = driver.find_element(By.ID, "q")
        box.send_keys("病假", Keys.ENTER)
        WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "li.hit"))
        hits = driver.find_elements(By.CSS_SELECTOR, "li.hit")
        assert len(hits) == 2
        assert "今天我们讨论病假和养老保险。" in hits[0].text + hits[1].text
        marks = driver.find_elements(By.CSS_SELECTOR, "li.hit mark")
        assert marks and all(m.text == "病假" for m in marks)
        link = hits[0].find_element(By.TAG_NAME, "a").get_attribute("href")
        assert "/media/ep-002-sick-leave.mp3#t=" in link
    finally:
        driver.quit()
