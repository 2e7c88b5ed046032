"""`media-tool serve`: files with HTTP Range, the read-only search API, and the search page and an
<audio> seek in headless Chromium."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import urllib.parse
import urllib.request

import pytest
from helpers import cli

from media_tool.commands.serve import server

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


def _chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


def get(url: str, headers: dict | None = None, method: str = "GET") -> tuple[int, bytes]:
    return fetch(url, headers, method)[::2]


def fetch(url: str, headers: dict | None = None, method: str = "GET") -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_api_files_and_read_only(running):
    code, body = get(running + "/_search/api?q=" + urllib.parse.quote("病假"))
    hits = json.loads(body)
    assert code == 200 and hits and hits[0]["local_url"].startswith("/media/ep-002-sick-leave.mp3#t=")
    code, body = get(running + "/media/ep-001-pensions.mp3")
    assert code == 200 and body[:3] == b"ID3"
    assert get(running + "/../podcast.toml")[0] == 404
    assert get(running + "/%2e%2e/podcast.toml")[0] == 404
    req = urllib.request.Request(running + "/_search/api?q=x", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    assert exc.value.code == 405  # search is read-only: the one write is the review page's fix
    code, body = get(running + "/_search/api?meaning=0&q=" + urllib.parse.quote('") OR 1=1 --'))
    assert code == 200 and json.loads(body) == []  # searched as text: no such words were said


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")
def test_search_page_in_headless_chromium(running, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    try:
        driver.get(running + "/_search")
        box = driver.find_element(By.ID, "q")
        box.send_keys("病假", Keys.ENTER)
        WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "li.hit"))
        hits = driver.find_elements(By.CSS_SELECTOR, "li.hit")
        worded = [h for h in hits if h.find_elements(By.TAG_NAME, "mark")]  # the rest were found by meaning
        assert len(worded) >= 2 and hits[0] in worded and hits[1] in worded  # words and meaning agree: first
        assert "今天我们讨论病假和养老保险" in " ".join(h.text for h in worded)
        marks = driver.find_elements(By.CSS_SELECTOR, "li.hit mark")
        assert marks and all(m.text == "病假" for m in marks)
        link = worded[0].find_element(By.CSS_SELECTOR, "a[href*='/episodes/']").get_attribute("href")
        assert "/episodes/ep-002-sick-leave/#t=" in link
    finally:
        driver.set_window_size(800, 600)


def test_ranges_byte_for_byte(running, built_show):
    mp3 = (built_show / "feed" / "media" / "ep-001-pensions.mp3").read_bytes()
    url = running + "/media/ep-001-pensions.mp3"
    code, h, body = fetch(url)
    assert code == 200 and body == mp3 and h["Accept-Ranges"] == "bytes" and h["Content-Type"] == "audio/mpeg"
    mid = len(mp3) // 2
    for spec, (a, b) in ((f"bytes={mid}-{mid + 999}", (mid, mid + 999)), (f"bytes={mid}-", (mid, len(mp3) - 1)),
                         ("bytes=-500", (len(mp3) - 500, len(mp3) - 1)), (f"bytes=0-{len(mp3) * 2}", (0, len(mp3) - 1))):
        code, h, body = fetch(url, {"Range": spec})
        assert code == 206 and body == mp3[a:b + 1], spec
        assert h["Content-Range"] == f"bytes {a}-{b}/{len(mp3)}" and h["Content-Length"] == str(b - a + 1)
    code, h, body = fetch(url, {"Range": f"bytes={len(mp3)}-"})
    assert code == 416 and h["Content-Range"] == f"bytes */{len(mp3)}"
    etag = fetch(url, method="HEAD")[1]["ETag"]
    assert fetch(url, {"Range": "bytes=0-9", "If-Range": etag})[0] == 206
    code, _, body = fetch(url, {"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert code == 200 and body == mp3  # the client's copy is out of date: the whole file
    code, h, body = fetch(url, method="HEAD")
    assert code == 200 and body == b"" and h["Content-Length"] == str(len(mp3))


def test_types_cors_and_bad_paths(running):
    cases = {"/feed.xml": "application/rss+xml; charset=utf-8",
             "/chapters/ep-001-pensions.json": "application/json+chapters",
             "/transcripts/ep-001-pensions/ep-001-pensions.en.vtt": "text/vtt; charset=utf-8",
             "/transcripts/ep-001-pensions/ep-001-pensions.en.srt": "application/x-subrip; charset=utf-8",
             "/media/ep-002-sick-leave.mp4": "video/mp4"}
    for path, ctype in cases.items():
        code, h, _ = fetch(running + path, method="HEAD")
        assert code == 200 and h["Content-Type"] == ctype, path
        cors = h.get("Access-Control-Allow-Origin")
        assert cors == ("*" if path.startswith(("/chapters/", "/transcripts/")) else None), path
    assert get(running + "/media/x%00.mp3")[0] == 400
    host, port = running.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:  # a raw NUL in the request line
        s.sendall(b"GET /media/\x00 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(64).startswith(b"HTTP/1.1 400")


def test_port_in_use_is_one_line(built_show):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        p = cli("serve", "--show", str(built_show), "--port", str(port))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert f"error: port {port} on 127.0.0.1 is already in use" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_the_serve_command_itself_serves_and_stops_on_ctrl_c(built_show):
    """`media-tool serve` as a user starts it (cmd_serve's own wiring: the show's index, glossary and
    editions): pages, the search API across languages, and a clean stop on Ctrl-C."""
    import signal
    import subprocess
    import sys
    import time

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    # Ctrl-C as a terminal sends it: a suite started in the background (`cmd &`) runs with SIGINT
    # ignored, which the server would inherit.
    p = subprocess.Popen([sys.executable, "-m", "media_tool", "serve", "--show", str(built_show), "--port", str(port)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        base, code, until = f"http://127.0.0.1:{port}", None, time.monotonic() + 60  # a loaded machine starts slowly
        while code is None and time.monotonic() < until and p.poll() is None:
            try:
                code, _ = get(base + "/")
            except OSError:
                time.sleep(0.1)
        assert code == 200, p.poll()
        assert get(base + "/zh/")[0] == 200
        code, body = get(base + "/_search/api?q=" + urllib.parse.quote("养老金"))
        hits = json.loads(body)
        assert code == 200 and hits and hits[0]["local_page"].startswith("/zh/episodes/")  # the query's edition
    finally:
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()  # never left running past the test
            out, err = p.communicate()
    assert p.returncode == 0 and "Traceback" not in err, err
    assert f"http://127.0.0.1:{port}/_search" in out


def test_serve_before_any_build_is_one_line(sample_show):
    p = cli("serve", "--show", str(sample_show), "--port", "0")
    assert p.returncode != 0 and "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith("/.media-tool/search.sqlite3: no search index yet: run "
                                                 "`media-tool build` first"), p.stderr


@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")
def test_chromium_seeks_audio_served_with_ranges(running, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    try:
        driver.get(running + "/_search")
        driver.execute_script("""
            const a = document.createElement("audio"); a.id = "probe"; a.preload = "auto";
            a.src = "/media/ep-001-pensions.mp3"; document.body.append(a);""")
        WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.getElementById('probe').readyState >= 1"))
        duration = driver.execute_script("return document.getElementById('probe').duration")
        assert duration > 20
        driver.execute_script("const a = document.getElementById('probe'); a.currentTime = a.duration / 2;")
        WebDriverWait(driver, 20).until(lambda d: d.execute_script(
            "const a = document.getElementById('probe'); return !a.seeking && a.readyState >= 2"))
        now = driver.execute_script("return document.getElementById('probe').currentTime")
        assert abs(now - duration / 2) < 1.0  # without Range support Chromium snaps back to 0
        seekable = driver.execute_script("const s = document.getElementById('probe').seekable; return s.length ? s.end(0) : 0")
        assert seekable > duration * 0.9
    finally:
        driver.set_window_size(800, 600)


def test_two_hundred_concurrent_mixed_requests_are_all_answered(running, built_show):
    """Searches (words and meaning, each a little different), pages and media ranges at once: every one
    answered, none lost to the listen backlog or a lock (scripts/bench_serve.py times the same mix)."""
    import http.client
    import random

    host, port = running.removeprefix("http://").split(":")
    size = (built_show / "feed" / "media" / "ep-001-pensions.mp3").stat().st_size
    rnd = random.Random(7)
    asks = []
    for i in range(200):
        if i % 4 < 2:
            q = rnd.choice(["pension", "养老金", "money after losing a job", "病假", "xkcdq"]) + f" {i}"
            asks.append((f"/_search/api?q={urllib.parse.quote(q)}", {}, 200))
        elif i % 4 == 2:
            asks.append((rnd.choice(["/", "/episodes/ep-001-pensions/", "/feed.xml"]), {}, 200))
        else:
            a = rnd.randrange(0, size - 4096)
            asks.append(("/media/ep-001-pensions.mp3", {"Range": f"bytes={a}-{a + 4095}"}, 206))
    start = threading.Barrier(len(asks))

    def one(ask):
        path, headers, want = ask
        start.wait()
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            body = r.read()
            return r.status == want and (want != 206 or len(body) == 4096), (r.status, path)
        except OSError as exc:
            return False, (repr(exc), path)
        finally:
            conn.close()

    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(len(asks)) as pool:
        results = list(pool.map(one, asks))
    assert all(ok for ok, _ in results), [why for ok, why in results if not ok][:5]


def test_a_player_closing_a_stream_prints_no_traceback(running, capfd):
    import struct

    host, port = running.removeprefix("http://").split(":")
    for _ in range(3):
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(b"GET /media/ep-001-pensions.mp3 HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(1024)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, as a player does
        s.close()
    assert get(running + "/feed.xml")[0] == 200  # still serving
    err = capfd.readouterr().err
    assert "Traceback" not in err and "ConnectionResetError" not in err, err


def test_a_search_past_its_deadline_is_a_503_to_ask_again_and_pages_still_flow(running, monkeypatch):
    from media_tool.commands import serve

    code, _, body = fetch(f"{running}/_search/api?q=pension")
    assert code == 200 and json.loads(body)
    monkeypatch.setattr(serve, "SEARCH_DEADLINE_S", 0.0)
    code, headers, body = fetch(f"{running}/_search/api?q=pension")
    assert code == 503 and headers["Retry-After"] == "2" and "deadline" in json.loads(body)["error"]
    assert get(f"{running}/")[0] == 200
    monkeypatch.setattr(serve, "SEARCH_DEADLINE_S", 10.0)
    code, _, body = fetch(f"{running}/_search/api?q=pension")
    assert code == 200 and json.loads(body)
