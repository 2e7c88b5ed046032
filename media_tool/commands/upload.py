"""`media-tool publish`: put the built site (`feed/`) on hosting, safely and only what changed.

Rules: media, transcripts, chapters and pages first and the feeds last, so no feed points at a file
that is not there yet; each file written under a temporary name and renamed where the target can
(S3 objects appear whole anyway); only files whose content hash differs from the target's manifest
are sent; `--delete` removes what is no longer published only after the feeds that stopped pointing
at it are up. The manifest (path -> size and SHA-256) is kept on the target and beside the build
state, and updated as files land, so an interrupted publish resumes where it stopped. Credentials
come from the environment, an SSH agent or key, or the standard AWS variables; none is written.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from media_tool.errors import ConfigError, MediaToolError, PublishError, UsageError
from media_tool.site.feed import content_type
from media_tool.store.files import (
    HashCache,
    ShowLock,
    atomic_output,
    key_of,
    remove_stale_parts,
    write_json,
)

MANIFEST = ".media-tool-manifest.json"
LONG, SHORT = "public, max-age=31536000", "public, max-age=300"
"""Media and art never change under one name for long; feeds and pages must be fresh within minutes."""


def cache_control(rel: str) -> str:
    return SHORT if rel.endswith((".xml", ".html")) or rel.startswith(("transcripts/", "chapters/")) else LONG


def is_feed(rel: str) -> bool:
    return "/" not in rel and re.fullmatch(r"feed(\.[\w-]+)*\.xml", rel) is not None


@dataclass(frozen=True)
class Plan:
    """What a publish will do, decided before anything is sent (pure)."""

    send: list[str]       # in order: everything else first, the feeds last
    delete: list[str]     # after the feeds
    unchanged: int

    @property
    def empty(self) -> bool:
        return not self.send and not self.delete


def rank(rel: str) -> int:
    """The order files go up in: media first, then what pages and feeds link to (transcripts,
    chapters, art, styles, scripts), then the pages, then the feeds, so nothing live ever points at a
    missing file."""
    if is_feed(rel):
        return 3
    if rel.startswith(("media/", "clips/")):
        return 0
    if rel.endswith((".html", ".htm")):
        return 2
    return 1  # what pages and feeds link to: transcripts, chapters, art, the site's styles, scripts, QR codes


def safe_rel(rel) -> bool:
    """A path the target's manifest may name: relative, inside the target, no '..', nothing odd."""
    if not isinstance(rel, str) or not rel or len(rel) > 1024 or "\\" in rel or "\0" in rel:
        return False
    parts = rel.split("/")
    return not rel.startswith("/") and all(p not in ("", ".", "..") for p in parts) and ":" not in parts[0]


class Unreadable:
    """A manifest on the target that is not JSON (cut short, overwritten by hand): read as empty."""


def parse_manifest(body: bytes | str):
    """The target's manifest file as JSON, or an `Unreadable` (every target kind reads it alike)."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Unreadable()


def valid_manifest(data) -> tuple[dict[str, dict], str | None]:
    """The target's manifest as far as it can be trusted (it is input from elsewhere), and what was
    wrong with it: entries with a path outside the target or no hash are dropped; not a table or not
    JSON, empty."""
    if data is None:
        return {}, None
    if isinstance(data, Unreadable):
        return {}, "the target's manifest is not readable JSON: treated as empty (every file is sent again)"
    if not isinstance(data, dict):
        return {}, "the target's manifest is not a table: treated as empty (every file is sent again)"
    good = {k: v for k, v in data.items() if safe_rel(k) and isinstance(v, dict) and isinstance(v.get("sha256"), str)}
    dropped = len(data) - len(good)
    return good, (f"the target's manifest named {dropped} path(s) outside the target or without a hash: ignored"
                  if dropped else None)


def plan(local: dict[str, dict], remote: dict[str, dict], *, delete: bool) -> Plan:
    """Files to send (new or changed by hash) and, with `delete`, files the target holds that are no
    longer published; media first and the feeds last (see `rank`)."""
    changed = [rel for rel, meta in local.items() if remote.get(rel, {}).get("sha256") != meta["sha256"]]
    send = sorted(changed, key=lambda r: (rank(r), r))
    gone = sorted(r for r in remote if r not in local) if delete else []
    return Plan(send, gone, len(local) - len(changed))


# -- targets -----------------------------------------------------------------------------------------
class Target:
    """Where the site goes. Each writes a file whole (temporary name, then rename, where it can)."""

    def read_manifest(self) -> dict | None: ...

    def put(self, src: Path, rel: str) -> None: ...

    def remove(self, rel: str) -> None: ...

    def write_manifest(self, manifest: dict) -> None: ...

    def clean(self) -> list[str]:
        """Remove what an interrupted publish left on the target; the paths removed."""
        return []

    def free(self) -> int | None:
        """Bytes free on the target, where that can be known."""
        return None

    def close(self) -> None:
        pass


class FolderTarget(Target):
    """A local or mounted folder: an exact mirror of feed/."""

    def __init__(self, root: Path):
        self.root = root

    def read_manifest(self) -> dict | None:
        try:
            return parse_manifest((self.root / MANIFEST).read_bytes())
        except FileNotFoundError:
            return None

    def clean(self) -> list[str]:
        """Temporary files a killed publish left behind (ours only: `.<name>.part-...`)."""
        return [p.relative_to(self.root).as_posix() for p in remove_stale_parts(self.root)]

    def free(self) -> int | None:
        self.root.mkdir(parents=True, exist_ok=True)
        return shutil.disk_usage(self.root).free

    def put(self, src: Path, rel: str) -> None:
        with atomic_output(self.root / rel) as tmp:
            shutil.copyfile(src, tmp)

    def remove(self, rel: str) -> None:
        path = self.root / rel
        if safe_rel(rel) and path.resolve().is_relative_to(self.root.resolve()):  # never outside the target
            path.unlink(missing_ok=True)

    def write_manifest(self, manifest: dict) -> None:
        write_json(self.root / MANIFEST, manifest)


class S3Target(Target):
    """S3 or any S3-compatible store (Aliyun OSS, Tencent COS, MinIO, AWS), via boto3's own credentials."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None):
        try:
            import boto3
        except ImportError as exc:
            raise UsageError('publishing to s3:// needs boto3: pip install -e ".[publish]"') from exc
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.s3 = boto3.client("s3", endpoint_url=endpoint_url)

    def _key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def read_manifest(self) -> dict | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self._key(MANIFEST))["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        return parse_manifest(body)

    def put(self, src: Path, rel: str) -> None:  # a PUT is atomic: readers see the old object or the new
        self.s3.upload_file(str(src), self.bucket, self._key(rel),
                            ExtraArgs={"ContentType": content_type(rel), "CacheControl": cache_control(rel)})

    def remove(self, rel: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self._key(rel))

    def write_manifest(self, manifest: dict) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=self._key(MANIFEST), ContentType="application/json",
                           CacheControl="no-cache", Body=json.dumps(manifest, sort_keys=True).encode())


class SFTPTarget(Target):
    """A web server over SSH (SFTP): the SSH agent or a key file, never a stored password."""

    def __init__(self, user: str | None, host: str, port: int, path: str, key_file: str | None):
        try:
            import paramiko
        except ImportError as exc:
            raise UsageError('publishing over SFTP needs paramiko: pip install -e ".[publish]"') from exc
        self.client = paramiko.SSHClient()
        self.client.load_system_host_keys()
        known = os.environ.get("MEDIA_TOOL_KNOWN_HOSTS")
        if known:
            self.client.load_host_keys(known)
        self.client.set_missing_host_key_policy(paramiko.RejectPolicy())  # an unknown host is refused, not trusted
        try:
            self.client.connect(host, port=port, username=user, key_filename=key_file, allow_agent=True,
                                look_for_keys=key_file is None, timeout=30)
        except Exception as exc:  # paramiko's many errors: unknown host key, refused, auth failed
            raise PublishError(f"cannot connect to {host}:{port}: {exc}") from exc
        self.sftp = self.client.open_sftp()
        self.root = path.rstrip("/") or "."

    def _path(self, rel: str) -> str:
        return posixpath.join(self.root, rel)

    def _mkdirs(self, folder: str) -> None:
        cur = "/" if folder.startswith("/") else ""
        for part in (p for p in folder.split("/") if p):
            cur = posixpath.join(cur, part) if cur else part
            try:
                self.sftp.stat(cur)
            except OSError:
                self.sftp.mkdir(cur)

    def read_manifest(self) -> dict | None:
        try:
            with self.sftp.open(self._path(MANIFEST), "r") as fh:
                body = fh.read()
        except OSError:  # not there (lost, or never published)
            return None
        return parse_manifest(body)

    def put(self, src: Path, rel: str) -> None:
        final = self._path(rel)
        self._mkdirs(posixpath.dirname(final))
        tmp = posixpath.join(posixpath.dirname(final), f".{posixpath.basename(final)}.part-upload")
        self.sftp.put(str(src), tmp)
        self.sftp.posix_rename(tmp, final)

    def remove(self, rel: str) -> None:
        try:
            self.sftp.remove(self._path(rel))
        except OSError:
            pass

    def write_manifest(self, manifest: dict) -> None:
        tmp = self._path(f".{MANIFEST}.part-upload")
        self._mkdirs(self.root)
        with self.sftp.open(tmp, "w") as fh:
            fh.write(json.dumps(manifest, sort_keys=True))
        self.sftp.posix_rename(tmp, self._path(MANIFEST))

    def close(self) -> None:
        self.client.close()


def open_target(to: str, show_root: Path, *, endpoint_url: str | None = None, key_file: str | None = None) -> Target:
    """A target from `[publish] to` or --to: a folder, sftp://user@host[:port]/path, user@host:path
    (SSH, written with SFTP), or s3://bucket/prefix (with endpoint_url for S3-compatible stores)."""
    if to.startswith("s3://"):
        u = urlsplit(to)
        if not u.netloc:
            raise ConfigError(f"publish: {to!r} names no bucket", "podcast.toml")
        return S3Target(u.netloc, u.path, endpoint_url or os.environ.get("AWS_ENDPOINT_URL"))
    if to.startswith("sftp://"):
        u = urlsplit(to)
        if not u.hostname:
            raise ConfigError(f"publish: {to!r} names no host", "podcast.toml")
        return SFTPTarget(u.username, u.hostname, u.port or 22, u.path or ".", key_file)
    m = re.fullmatch(r"(?:([^@/:\s]+)@)?([^@/:\s]+):(.*)", to)
    if m and not re.fullmatch(r"[A-Za-z]", m.group(2)):  # user@host:path, as scp and rsync spell it
        return SFTPTarget(m.group(1), m.group(2), 22, m.group(3) or ".", key_file)
    folder = Path(to.removeprefix("file://"))
    folder = folder if folder.is_absolute() else show_root / folder
    if folder.resolve().is_relative_to((show_root / "feed").resolve()):
        raise ConfigError("publish: the target folder cannot be inside feed/", "podcast.toml")
    if folder.resolve().is_relative_to(show_root.resolve()):
        raise ConfigError(f"publish: the target folder {to!r} is inside the show folder: the site would be written "
                          "over the show's own files; give a folder outside it", "podcast.toml")
    return FolderTarget(folder)


# -- the edge -------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    target: str
    sent: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    bytes: int = 0
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)  # leftovers of an interrupted publish, removed

    def to_dict(self) -> dict:
        return {"target": self.target, "sent": self.sent, "deleted": self.deleted, "unchanged": self.unchanged,
                "bytes": self.bytes, "dry_run": self.dry_run, "notes": self.notes, "cleaned": self.cleaned}


def local_files(feed: Path, hashes: HashCache) -> dict[str, dict]:
    """Every published file under feed/ (no hidden temporaries), with size and content hash."""
    out = {}
    for p in sorted(feed.rglob("*")):
        rel = p.relative_to(feed).as_posix()
        if p.is_file() and not any(part.startswith(".") for part in rel.split("/")):
            out[rel] = {"size": p.stat().st_size, "sha256": hashes.digest(p)}
    return out


def publish(show_root: Path, state_dir: Path, to: str, *, dry_run: bool = False, delete: bool = False,
            endpoint_url: str | None = None, key_file: str | None = None,
            progress: Callable[[str, int, int], None] | None = None,
            on_wait: Callable[[str], None] | None = None) -> Outcome:
    """Send what changed in feed/ to `to`, feeds last; see the module docstring for the rules. A build
    of the show running now is waited for (`on_wait(holder)` says so), so what goes up is its whole result."""
    feed = show_root / "feed"
    if not (feed / "feed.xml").is_file():
        raise UsageError("nothing to publish yet: run `media-tool build` first", "feed/feed.xml")
    cache_path = state_dir / f"upload-{key_of({'to': to})[:12]}.json"
    try:
        cached = json.loads(cache_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        cached = {}
    hashes = HashCache(cached.get("hashes"))
    target = open_target(to, show_root, endpoint_url=endpoint_url, key_file=key_file)
    # The show lock: no build rewrites feed/ while it goes up, so what is sent is one consistent site.
    with ShowLock(state_dir, "publish", on_wait=on_wait), _closing(target):
        return _publish(feed, target, to, hashes, cached, cache_path, dry_run=dry_run, delete=delete,
                        progress=progress)


class _closing:
    def __init__(self, target: Target):
        self.target = target

    def __enter__(self):
        return self.target

    def __exit__(self, *exc):
        self.target.close()


def _publish(feed: Path, target: Target, to: str, hashes: HashCache, cached: dict, cache_path: Path, *,
             dry_run: bool, delete: bool, progress) -> Outcome:
    local = local_files(feed, hashes)
    notes: list[str] = []
    try:
        raw = target.read_manifest()
        remote, why = valid_manifest(raw)
        if why:
            notes.append(why)
        if raw is None:
            remote, _ = valid_manifest(cached.get("manifest") or {})
        todo = plan(local, remote, delete=delete)
        out = Outcome(to, unchanged=todo.unchanged, dry_run=dry_run, notes=notes)
        if not dry_run:
            out.cleaned = target.clean()
            free, needed = target.free(), sum(local[r]["size"] for r in todo.send)
            if free is not None and needed > free - (16 << 20):
                raise PublishError(f"{to} has {free / 1e6:.0f} MB free, {needed / 1e6:.0f} MB to send: nothing "
                                   "was sent (the live site is unchanged)")
        if dry_run:  # the plan, and nothing touched
            out.sent, out.deleted = list(todo.send), list(todo.delete)
            out.bytes = sum(local[r]["size"] for r in todo.send)
            return out
        if todo.empty:
            write_json(cache_path, {"manifest": remote, "hashes": hashes.entries})
            return out
        manifest = dict(remote)
        total = sum(local[r]["size"] for r in todo.send)

        def save() -> None:
            target.write_manifest(manifest)
            write_json(cache_path, {"manifest": manifest, "hashes": hashes.entries})

        for i, rel in enumerate(todo.send):
            target.put(feed / rel, rel)
            manifest[rel] = local[rel]
            out.sent.append(rel)
            out.bytes += local[rel]["size"]
            if progress:
                progress(rel, out.bytes, total)
            if i % 50 == 49:
                save()  # an interrupted publish resumes from here
        for rel in todo.delete:  # the feeds that pointed at these are already up
            target.remove(rel)
            manifest.pop(rel, None)
            out.deleted.append(rel)
        save()
        return out
    except MediaToolError:
        raise
    except OSError as exc:
        raise PublishError(f"publishing to {to} failed: {exc}") from exc
