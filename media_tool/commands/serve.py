"""`media-tool serve`: the built feed/ folder, a search page and a review page, for staff on this machine.

Read-only by construction, but for one thing: GET and HEAD only, the index opened read-only, every
query parameterised, files served only from inside feed/. Bound to 127.0.0.1 unless told otherwise.
The one write is the review page's fix (`POST /_review/fix`, `commands.review.save_fix`): accepted
only from this machine (a loopback client), with the page's own token, as JSON, so no other site
and no other machine can make a browser write it.
"""

from __future__ import annotations

import bisect
import email.utils
import errno
import json
import re
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

from media_tool.commands import review
from media_tool.errors import MediaToolError, SearchTimeout, UsageError
from media_tool.model.glossary import Glossary
from media_tool.search import semantic
from media_tool.search.hybrid import search as search_index
from media_tool.site.feed import content_type
from media_tool.text.script import has_han


def review_page(token: str) -> bytes:
    """The review page, carrying this server's token (a fix without it is refused)."""
    page = resources.files("media_tool.site").joinpath("templates", "review.html").read_text(encoding="utf-8")
    return page.replace("__REVIEW_TOKEN__", token).encode("utf-8")


def search_page() -> bytes:
    """The search page, in the site's style (site/search.html in the package)."""
    return resources.files("media_tool.site").joinpath("templates", "search.html").read_bytes()


def _cached_json(path: Path, cache: dict) -> dict:
    """A published JSON object (a transcript, site/episodes.json), re-read only when it changed; {} if none."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return {}
    if cache.get(path, (None,))[0] != stamp:
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            value = {}
        cache[path] = (stamp, value if isinstance(value, dict) else {})
    return cache[path][1]


def _timeline(path: Path, cache: dict) -> tuple[list, list[float]]:
    """A published transcript's segments and their start times (in order), worked out once per version."""
    data = _cached_json(path, cache)
    kept = cache.get(("starts", path))
    if kept is None or kept[0] is not data:
        segs = data.get("segments", []) if isinstance(data.get("segments"), list) else []
        segs = [seg for seg in segs if isinstance(seg, dict)]
        starts = []
        for seg in segs:
            try:
                starts.append(float(seg.get("startTime", -9)))
            except (TypeError, ValueError):
                starts.append(-9.0)
        kept = cache[("starts", path)] = (data, (segs, starts))
    return kept[1]


def enrich(hit: dict, feed_dir: Path, episodes: dict, cache: dict) -> dict:
    """A hit with what the page shows around it: the line before and after (from the published
    transcript), the episode's date and number (from site/episodes.json), a local player URL."""
    slug, lang = hit["slug"], hit["lang"]
    segs, starts = _timeline(feed_dir / "transcripts" / slug / f"{slug}.{lang}.json", cache)
    i = bisect.bisect_right(starts, hit["start"] - 0.05)  # the first line starting within 50 ms of the hit
    i = i if i < len(starts) and starts[i] < hit["start"] + 0.05 else None
    hit["before"] = segs[i - 1].get("body", "") if i else ""
    hit["after"] = segs[i + 1].get("body", "") if i is not None and i + 1 < len(segs) else ""
    facts = episodes.get(slug, {})
    hit["date"], hit["number"] = facts.get("date"), facts.get("number")
    local = feed_dir / "media" / f"{slug}.mp3"  # play from this machine when the file is here
    hit["local_url"] = f"/media/{slug}.mp3#t={hit['start']:.1f}" if local.is_file() else None
    # the page on this server too, in the edition the hit links to (/zh/episodes/<slug>/#t=...)
    page = re.search(r"/((?:zh/|en/)?episodes/[^/]+/.*)$", hit.get("url") or "")
    hit["local_page"] = f"/{page[1]}" if page else None
    return hit


IDLE_TIMEOUT_S = 30
"""A connection that sends nothing for this long is closed (one slow client cannot hold a thread)."""
CHUNK = 1 << 16
SEARCH_DEADLINE_S = 10.0
"""How long one search may take from its arrival, its wait for a slot included; past it the answer is
503 with Retry-After, so a pasted document or a burst never holds a question for half a minute."""
SEARCHES_AT_ONCE = 8
"""Searches run side by side (each thread its own read-only connection), this many at a time, so a
burst of them queues here while pages and media keep flowing."""


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


def site_facts(feed_dir: Path, cache: dict | None = None) -> dict:
    """The site's episodes.json (slug -> date, number, titles per language); {} before any build."""
    return _cached_json(feed_dir / "site" / "episodes.json", {} if cache is None else cache)


def site_titles(facts: dict) -> dict[str, dict[str, str]]:
    """slug -> language -> title, from `site_facts`."""
    return {slug: f.get("titles") or {} for slug, f in facts.items() if isinstance(f, dict)}


def make_handler(feed_dir: Path, index, glossary: Glossary = Glossary(), editions: dict[str, str] | None = None,
                 show=None):
    """Handler over feed/ and a read-only index (SQLite or PostgreSQL; None before any build);
    the `glossary` widens searches to the other language's term; `editions` (language ->
    prefix) make hits open the episode page in the query's language; `show` (its folder) serves
    the review queue and takes its fixes."""
    feed_dir = feed_dir.resolve()
    token = secrets.token_urlsafe(24)
    searching = threading.BoundedSemaphore(SEARCHES_AT_ONCE)
    cache: dict = {}

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

        def _busy(self, why: str) -> None:
            """503 with a reason and when to ask again: the search page says so and the query can be re-sent."""
            body = json.dumps({"error": f"{why} ({SEARCH_DEADLINE_S:.0f} s): try again in a moment"}).encode()
            self._send(503, body, "application/json; charset=utf-8", {"Retry-After": "2"})

        def do_HEAD(self) -> None:
            self.do_GET()

        def _answer(self, code: int, value) -> None:
            self._send(code, json.dumps(value, ensure_ascii=False).encode(), "application/json; charset=utf-8")

        def do_POST(self) -> None:
            if urllib.parse.urlsplit(self.path).path != "/_review/fix" or show is None:
                return self._send(405, b"method not allowed\n", "text/plain", {"Allow": "GET, HEAD"})
            if self.client_address[0] not in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
                return self._answer(403, {"error": "fixes are saved only from this machine"})
            if not secrets.compare_digest(self.headers.get("X-Review-Token", ""), token):
                return self._answer(403, {"error": "not this server's review page: reload it"})
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                return self._answer(415, {"error": "send JSON"})
            try:
                size = int(self.headers.get("Content-Length") or 0)
                if not 0 < size <= 64 << 10:
                    raise ValueError("a fix is a line, not a file")
                fix = json.loads(self.rfile.read(size))
                saved = review.save_fix(show, str(fix["episode"]), str(fix["language"]), float(fix["start"]),
                                        float(fix["end"]), str(fix["text"]))
            except (KeyError, TypeError, ValueError) as exc:
                return self._answer(400, {"error": f"not a fix ({exc})"})
            except MediaToolError as exc:
                return self._answer(400, {"error": exc.one_line()})
            return self._answer(200, {"saved": show.rel(saved)})

        def do_GET(self) -> None:
            if "\0" in self.path or "%00" in self.path.lower():
                return self._send(400, b"bad request\n", "text/plain")
            url = urllib.parse.urlsplit(self.path)
            if url.path in ("/_search", "/_search/"):
                return self._send(200, search_page(), "text/html; charset=utf-8")
            if url.path in ("/_review", "/_review/") and show is not None:
                return self._send(200, review_page(token), "text/html; charset=utf-8",
                                  {"Cache-Control": "no-store"})
            if url.path == "/_review/api" and show is not None:
                return self._answer(200, [line.to_dict() for line in review.queue(show)])
            if url.path == "/_search/api":
                q = urllib.parse.parse_qs(url.query)
                query, lang = q.get("q", [""])[0], q.get("lang", [""])[0] or None
                try:
                    limit = max(1, min(100, int(q.get("limit", ["20"])[0])))
                except ValueError:
                    limit = 20
                hits, notes = [], []
                episodes = site_facts(feed_dir, cache)
                if index is not None and lang in (None, "zh", "en"):
                    deadline = time.monotonic() + SEARCH_DEADLINE_S
                    if not searching.acquire(timeout=SEARCH_DEADLINE_S):
                        return self._busy("every search slot stayed taken")
                    try:
                        found, notes = search_index(index, query, glossary=glossary, lang=lang, limit=limit,
                                                    meaning=q.get("meaning", ["1"])[0] != "0", editions=editions,
                                                    titles=site_titles(episodes), deadline=deadline)
                    except SearchTimeout:
                        return self._busy("the search ran past its deadline")
                    finally:
                        searching.release()
                    hits = [h.to_dict() for h in found]
                hits = [enrich(h, feed_dir, episodes, cache) for h in hits]
                headers = {"X-Search-Language": "zh" if has_han(query) else "en"}  # which script the query was in
                if notes:
                    headers["X-Search-Notes"] = json.dumps(notes)
                return self._send(200, json.dumps(hits, ensure_ascii=False).encode(), "application/json; charset=utf-8",
                                  headers)
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
    request_queue_size = 1024  # listen backlog: a burst of clients waits in the kernel, not in SYN retries

    def handle_error(self, request, client_address) -> None:
        """A client that went away (a player closing a stream) is normal, not a traceback; anything
        else is one line on stderr."""
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        print(f"serve: {client_address[0]}: {type(exc).__name__}: {exc}", file=sys.stderr)


def server(feed_dir: Path, index, host: str = "127.0.0.1", port: int = 8000, glossary: Glossary = Glossary(),
           editions: dict[str, str] | None = None, show=None) -> ThreadingHTTPServer:
    """A ready server (call serve_forever); port 0 picks a free one. A port in use is a UsageError.
    The embedding engine is loaded first, for many searches at once (see `semantic.engine`)."""
    if index is not None and semantic.unavailable() is None:
        semantic.engine(idle_threads_sleep=True)
    try:
        return _Server((host, port), make_handler(feed_dir, index, glossary, editions, show))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is already in use: stop what is using it, or pick another "
                             f"with --port (for example --port {port + 1})") from exc
        if exc.errno in (errno.EACCES, errno.EADDRNOTAVAIL):
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        raise
