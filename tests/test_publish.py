"""`media-tool publish` against real targets started here: a folder, an OpenSSH server (SFTP) on
127.0.0.1 with its own host key and an authorized test key, and moto's standalone S3 server (the
closest thing to S3 that can run here; it speaks the S3 HTTP API that boto3 uses)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import build_json, linked_before, run_here

BASE = "https://podcast.example.org"  # the sample show's base_url

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)


def publish(show: Path, *extra: str, env: dict | None = None) -> dict:
    p = subprocess.run([sys.executable, "-m", "media_tool", "publish", "--show", str(show), "--json", *extra],
                       capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def damaged_and_lost_manifests(show: Path, to: list[str], env: dict | None, put) -> None:
    """On a published target: a manifest cut short is read as empty (everything sent again, said in one
    line, no traceback); a lost one falls back to the record beside the build (nothing to send)."""
    put(b'{"feed.xml": {"sha256": "ab')  # cut short
    again = publish(show, *to, env=env)
    assert any("not readable JSON" in n for n in again["notes"]), again
    assert len(again["sent"]) == len(site(show / "feed")) and again["sent"][-1].startswith("feed")
    put(None)  # lost
    assert publish(show, *to, env=env)["sent"] == []


def site(feed: Path) -> dict[str, bytes]:
    return {p.relative_to(feed).as_posix(): p.read_bytes() for p in feed.rglob("*")
            if p.is_file() and not p.name.startswith(".")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_folder_mirror_feeds_last_then_nothing_then_only_what_changed(built_show, tmp_path):
    target = tmp_path / "www"
    first = publish(built_show, "--to", str(target))
    local = site(built_show / "feed")
    assert site(target) == local  # an exact mirror
    feeds = [r for r in first["sent"] if r.startswith("feed") and r.endswith(".xml")]
    assert first["sent"][-len(feeds):] == feeds and len(feeds) == 4  # the feeds (audio, video; en, zh) went last
    again = publish(built_show, "--to", str(target))
    assert again["sent"] == [] and again["unchanged"] == len(local)
    p = run_here("publish", "--show", str(built_show), "--to", str(target))
    assert p.returncode == 0 and "is up to date: nothing to send" in p.stdout
    # A new title: only the files it changed are sent.
    toml = built_show / "episodes" / "ep-001-pensions" / "episode.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("Pensions for everyone", "Pensions for all"),
                    encoding="utf-8")
    assert build_json(built_show)[0] == 0
    changed = {r for r, data in site(built_show / "feed").items() if local.get(r) != data}
    third = publish(built_show, "--to", str(target))
    assert set(third["sent"]) == changed and "feed.xml" in changed and "media/ep-001-pensions.mp3" in changed
    assert "media/ep-002-sick-leave.mp4" not in changed
    assert site(target) == site(built_show / "feed")
    manifest = target / ".media-tool-manifest.json"
    damaged_and_lost_manifests(built_show, ["--to", str(target)], None,
                               lambda body: manifest.write_bytes(body) if body is not None else manifest.unlink())


def test_dry_run_touches_nothing_and_delete_comes_after_the_feeds(built_show, tmp_path):
    target = tmp_path / "www"
    plan = publish(built_show, "--to", str(target), "--dry-run")
    assert plan["dry_run"] and plan["sent"] and not target.exists()
    # the plan is in the order it would be sent: no page or feed before what it links to, the feeds last
    assert linked_before(built_show / "feed", plan["sent"], BASE) == []
    assert plan["sent"][-1].startswith("feed") and plan["sent"][-1].endswith(".xml")
    publish(built_show, "--to", str(target))
    (built_show / "feed" / "transcripts" / "ep-001-pensions" / "ep-001-pensions.en.txt").unlink()
    kept = publish(built_show, "--to", str(target))
    assert kept["deleted"] == [] and (target / "transcripts/ep-001-pensions/ep-001-pensions.en.txt").exists()
    gone = publish(built_show, "--to", str(target), "--delete")
    assert gone["deleted"] == ["transcripts/ep-001-pensions/ep-001-pensions.en.txt"]
    assert site(target) == site(built_show / "feed")


def test_what_lands_on_the_target_and_in_what_order(built_show, tmp_path, monkeypatch):
    """Every put and remove as the target sees them: media, then what links to them, then pages,
    then the feeds; a removal only after the feeds that no longer name it are up."""
    from media_tool.commands import upload

    seen: list[tuple[str, str]] = []
    real_put, real_remove = upload.FolderTarget.put, upload.FolderTarget.remove
    monkeypatch.setattr(upload.FolderTarget, "put", lambda self, src, rel: (seen.append(("put", rel)),
                                                                           real_put(self, src, rel))[1])
    monkeypatch.setattr(upload.FolderTarget, "remove", lambda self, rel: (seen.append(("remove", rel)),
                                                                         real_remove(self, rel))[1])
    target = tmp_path / "www"
    upload.publish(built_show, built_show / ".media-tool", str(target))
    puts = [rel for op, rel in seen if op == "put"]
    assert sorted(puts) == sorted(site(built_show / "feed"))  # everything in feed/, once
    # read from the files themselves: nothing that went up pointed at a file not up yet
    assert linked_before(built_show / "feed", puts, BASE) == []
    feeds = [r for r in puts if re.fullmatch(r"feed(\.[\w-]+)*\.xml", r)]
    assert len(feeds) >= 2 and puts[-len(feeds):] == feeds and puts[0].startswith(("media/", "clips/"))
    seen.clear()
    (built_show / "feed" / "media" / "ep-001-pensions.m4a").unlink()
    page = built_show / "feed" / "index.html"
    page.write_bytes(page.read_bytes() + b"\n")
    feed = built_show / "feed" / "feed.xml"
    feed.write_bytes(feed.read_bytes() + b"\n")
    upload.publish(built_show, built_show / ".media-tool", str(target), delete=True)
    ops = [f"{op} {rel}" for op, rel in seen]
    assert ops.index("put index.html") < ops.index("put feed.xml")
    assert ops.index("put feed.xml") < ops.index("remove media/ep-001-pensions.m4a")


def test_the_target_cannot_be_inside_feed(built_show):
    p = run_here("publish", "--show", str(built_show), "--to", "feed/mirror")
    assert p.returncode == 2 and "cannot be inside feed/" in p.stderr


@pytest.fixture()
def s3(monkeypatch):
    moto_server = pytest.importorskip("moto.server")
    import boto3

    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])
    client.create_bucket(Bucket="podcast")
    yield client, env
    server.stop()


def test_s3_mirror_with_types_and_cache_control(built_show, s3):
    client, env = s3
    first = publish(built_show, "--to", "s3://podcast/site", env=env)
    local = site(built_show / "feed")
    keys = {o["Key"] for o in client.list_objects_v2(Bucket="podcast", Prefix="site/")["Contents"]}
    assert keys == {f"site/{r}" for r in local} | {"site/.media-tool-manifest.json"}
    for rel, ctype, cache in (("feed.xml", "application/rss+xml; charset=utf-8", "max-age=300"),
                              ("media/ep-001-pensions.mp3", "audio/mpeg", "max-age=31536000"),
                              ("chapters/ep-001-pensions.json", "application/json+chapters", "max-age=300"),
                              ("transcripts/ep-002-sick-leave/ep-002-sick-leave.zh.vtt", "text/vtt; charset=utf-8", None)):
        head = client.head_object(Bucket="podcast", Key=f"site/{rel}")
        assert head["ContentType"] == ctype and (cache is None or cache in head["CacheControl"])
        assert client.get_object(Bucket="podcast", Key=f"site/{rel}")["Body"].read() == local[rel]
    assert first["sent"][-1].startswith("feed")
    assert publish(built_show, "--to", "s3://podcast/site", env=env)["sent"] == []
    damaged_and_lost_manifests(built_show, ["--to", "s3://podcast/site"], env, lambda body: (
        client.put_object(Bucket="podcast", Key="site/.media-tool-manifest.json", Body=body) if body is not None
        else client.delete_object(Bucket="podcast", Key="site/.media-tool-manifest.json")))


@pytest.fixture()
def sshd(tmp_path):
    if not SSHD or os.geteuid() != 0:
        pytest.skip("needs Debian's openssh-server and root (scripts/test.sh installs it; CI runs as root)")
    d = tmp_path / "sshd"
    d.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "client")], check=True)
    (d / "authorized_keys").write_text((d / "client.pub").read_text())
    os.chmod(d / "authorized_keys", 0o600)
    port = _free_port()
    sftp_server = next((p for p in ("/usr/lib/openssh/sftp-server", "/usr/libexec/sftp-server") if os.path.exists(p)),
                       "internal-sftp")
    (d / "config").write_text(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host'}\nPidFile {d / 'pid'}\n"
                              f"AuthorizedKeysFile {d / 'authorized_keys'}\nPasswordAuthentication no\n"
                              f"PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
                              f"Subsystem sftp {sftp_server}\n")
    Path("/run/sshd").mkdir(exist_ok=True)
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(d / "config")], stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    host_key = (d / "host.pub").read_text().split()
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    yield port, d
    proc.terminate()
    proc.wait(timeout=10)


def test_sftp_mirror_feeds_last_then_nothing(built_show, sshd, tmp_path):
    port, d = sshd
    remote = tmp_path / "www"
    with open(built_show / "podcast.toml", "a", encoding="utf-8") as fh:
        fh.write(f'\n[publish]\nto = "sftp://root@127.0.0.1:{port}{remote}"\nkey_file = "{d / "client"}"\n')
    env = {"MEDIA_TOOL_KNOWN_HOSTS": str(d / "known_hosts")}
    first = publish(built_show, env=env)
    assert site(remote) == site(built_show / "feed") and first["sent"][-1].startswith("feed")
    assert not [p for p in remote.rglob("*") if ".part-" in p.name]
    assert publish(built_show, env=env)["sent"] == []
    manifest = remote / ".media-tool-manifest.json"
    damaged_and_lost_manifests(built_show, [], env, lambda body: manifest.write_bytes(body) if body is not None
                               else manifest.unlink())
    # An unknown host key is refused, never trusted on first sight.
    p = subprocess.run([sys.executable, "-m", "media_tool", "publish", "--show", str(built_show)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and "cannot connect to 127.0.0.1" in p.stderr and "Traceback" not in p.stderr
