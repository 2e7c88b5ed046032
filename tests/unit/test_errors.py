"""One line for a full disk: the free space of the filesystem that is full, not of where the
command was started."""

from __future__ import annotations

import errno
import re
import shutil
from pathlib import Path

from media_tool.errors import disk_error


def test_a_full_disk_line_measures_the_filesystem_written_to(tmp_path, monkeypatch):
    target = Path("/dev/shm") if Path("/dev/shm").is_dir() else tmp_path
    monkeypatch.chdir("/")  # the producer ran the command from elsewhere, with --show
    line = disk_error(OSError(errno.ENOSPC, "No space left on device"), str(target / "feed" / "x.mp3"),
                      5_000_000, display="feed/x.mp3").one_line()
    assert line.startswith("feed/x.mp3: cannot write: no space left on the device ("), line
    free = float(re.search(r"\(([\d.]+) MB free", line)[1]) * 1e6
    assert abs(free - shutil.disk_usage(target).free) < 50e6
    assert "about 5.0 MB needed" in line


def test_without_a_path_no_free_space_is_made_up():
    line = disk_error(OSError(errno.ENOSPC, "No space left on device")).one_line()
    assert "free" not in line and "no space left" in line
