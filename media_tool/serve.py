"""`media-tool serve`: the built feed/ folder and a search page, for staff on this machine.

Read-only by construction: GET and HEAD only, the index opened read-only, every query
parameterised, files served only from inside feed/. Bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import email.utils
import errno
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .errors import UsageError
from .feed import content_type

PAGE = """<!doctype html>
<html lang="zh-Hans"><head><meta charset="utf-8"><title>Search the transcripts · 搜索文字稿</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body { font: 16px/1.5 system-ui, "Noto Sans CJK SC", sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
 form { display: flex; gap: .5rem; } input[type=search] { flex: 1; font-size: 1.1rem; padding: .4rem; }
 li { margin: .8rem 0; list-style: none; } mark { background: #ffe066; }
 .meta { color: #555; font-size: .9rem; } ol { padding: 0; }
</style></head>
<body>
<h1>Search what was said · 搜索节目内容</h1>
<form id="f"><input type="search" id="q" name="q" autofocus placeholder="病假, pension, &quot;social protection&quot;">
<select id="lang"><option value="">all · 全部</option><option value="zh">中文</option><option value="en">English</option></select>
<button>Search · 搜索</button></form>
<p id="status" class="meta"></p>
<ol id="results"></ol>
<script>
const f = document.getElementById("f"), results = document.getElementById("results"), status = document.getElementById("status");
function clock(s) { const m = Math.floor(s / 60); return m + ":" + (s - 60 * m).toFixed(1).padStart(4, "0"); }
f.addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = document.getElementById("q").value, lang = document.getElementById("lang").value;
  const r = await fetch("/_search/api?" + new URLSearchParams({q, lang}));
  const hits = await r.json();
  results.replaceChildren();
  status.textContent = hits.length + " hit(s)";
  for (const h of hits) {
    const li = document.createElement("li"); li.className = "hit";
    const text = document.createElement("div"); text.className = "said";
    text.innerHTML = h.snippet;  /* the server escaped the text; only <mark> is markup */
    const meta = document.createElement("div"); meta.className = "meta";
    const a = document.createElement("a"); a.href = h.local_url || h.url; a.textContent = "▶ " + clock(h.start);
    meta.append(h.title + " · " + h.lang + " · ", a);
    li.append(text, meta); results.append(li);
  }
});
</script></body></html>
"""


IDLE_TIMEOUT_S = 30
"""A connection that sends nothing for this long is closed (one slow client cannot hold a thread)."""
CHUNK = 1 << 16


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """The (first, last) bytes a `Range: bytes=...` header asks for; None for the whole file (no
    header, or one we do not serve as a range, e.g. several ranges); "unsatisfiable" for 416."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":  # the last N bytes
            n = int(last)
            if n <= 0:
                return "unsatisfiable"
            return max(0, size - n), size - 1
        a = int(first)
        b = int(last) if last else size - 1
    except ValueError:
        return None
    if a >= size or a < 0 or b < a:
        return "unsatisfiable"
    return a, min(b, size - 1)


def make_handler(feed_dir: Path, index):
    """Handler over feed/ and a read-only index (SQLite or PostgreSQL; None before any build)."""
    feed_dir = feed_dir.resolve()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        server_version = "media-tool"
        protocol_version = "HTTP/1.1"  # keep-alive: players make many range requests
        timeout = IDLE_TIMEOUT_S

        def _send(self, code: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _file(self, target: Path, rel: str) -> None:
            """A file with HTTP Range (seeking in players; Safari plays video only this way)."""
            st = target.stat()
            etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
            headers = {"Accept-Ranges": "bytes", "ETag": etag,
                       "Last-Modified": email.utils.formatdate(st.st_mtime, usegmt=True)}
            if rel.startswith(("transcripts/", "chapters/")):
                headers["Access-Control-Allow-Origin"] = "*"  # the transcript spec asks apps to fetch them
            wanted = byte_range(self.headers.get("Range"), st.st_size)
            if_range = self.headers.get("If-Range")
            if wanted is not None and if_range and if_range.strip() not in (etag, headers["Last-Modified"]):
                wanted = None  # the file changed since the client's copy: send it whole
            if wanted == "unsatisfiable":
                headers["Content-Range"] = f"bytes */{st.st_size}"
                return self._send(416, b"", "text/plain", headers)
            first, last = wanted if wanted else (0, st.st_size - 1)
            length = max(0, last - first + 1)
            self.send_response(206 if wanted else 200)
            self.send_header("Content-Type", content_type(rel))
            self.send_header("Content-Length", str(length))
            self.send_header("X-Content-Type-Options", "nosniff")
            if wanted:
                self.send_header("Content-Range", f"bytes {first}-{last}/{st.st_size}")
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command == "HEAD":
                return
            with open(target, "rb") as fh:
                fh.seek(first)
                left = length
                while left > 0:
                    data = fh.read(min(CHUNK, left))
                    if not data:
                        break
                    self.wfile.write(data)
                    left -= len(data)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            if "\0" in self.path or "%00" in self.path.lower():
                return self._send(400, b"bad request\n", "text/plain")
            url = urllib.parse.urlsplit(self.path)
            if url.path in ("/_search", "/_search/"):
                return self._send(200, PAGE.encode(), "text/html; charset=utf-8")
            if url.path == "/_search/api":
                q = urllib.parse.parse_qs(url.query)
                query, lang = q.get("q", [""])[0], q.get("lang", [""])[0] or None
                try:
                    limit = max(1, min(100, int(q.get("limit", ["20"])[0])))
                except ValueError:
                    limit = 20
                hits = []
                if index is not None and lang in (None, "zh", "en"):
                    with lock:
                        hits = [h.to_dict() for h in index.search(query, lang=lang, limit=limit)]
                for h in hits:  # play from this machine when the file is here
                    local = feed_dir / "media" / f"{h['slug']}.mp3"
                    h["local_url"] = f"/media/{h['slug']}.mp3#t={h['start']:.1f}" if local.is_file() else None
                return self._send(200, json.dumps(hits, ensure_ascii=False).encode(), "application/json; charset=utf-8")
            target = (feed_dir / urllib.parse.unquote(url.path).lstrip("/")).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(feed_dir) or not target.is_file():
                return self._send(404, b"not found\n", "text/plain")
            return self._file(target, target.relative_to(feed_dir).as_posix())

        def log_message(self, *args) -> None:  # the CLI decides what to print
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a client that hangs never keeps the process alive


def server(feed_dir: Path, index, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A ready server (call serve_forever); port 0 picks a free one. A port in use is a UsageError."""
    try:
        return _Server((host, port), make_handler(feed_dir, index))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is already in use: stop what is using it, or pick another "
                             f"with --port (for example --port {port + 1})") from exc
        if exc.errno in (errno.EACCES, errno.EADDRNOTAVAIL):
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        raise
