"""`media-tool serve`: the built feed/ folder and a search page, for staff on this machine.

Read-only by construction: GET and HEAD only, the index opened read-only, every query
parameterised, files served only from inside feed/. Bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import json
import mimetypes
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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


def make_handler(feed_dir: Path, index):
    """Handler over feed/ and a read-only index (SQLite or PostgreSQL; None before any build)."""
    feed_dir = feed_dir.resolve()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        server_version = "media-tool"

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
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
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            return self._send(200, target.read_bytes(), ctype)

        def log_message(self, *args) -> None:  # the CLI decides what to print
            pass

    return Handler


def server(feed_dir: Path, index, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A ready server (call serve_forever); port 0 picks a free one."""
    return ThreadingHTTPServer((host, port), make_handler(feed_dir, index))
