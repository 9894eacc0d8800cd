"""The per-machine cache of verified model exports: made once per machine, shared by every data dir.

    <cache_dir>/exports/<model_id>-<weights sha256[:16]>-ov<OpenVINO version>-cpu<cpu signature>/
        ... the entry's files ...   manifest.json   (written last: each file's size, mtime and sha256)

An entry is built in a temporary folder beside its final place and published with one `rename`, so
concurrent first runs never see (or leave) half an entry: the loser of the race drops its copy and
uses the winner's. An entry whose manifest is missing or whose files differ from it is rebuilt,
never trusted. The cache folder is `BRIEFBOT_CACHE_DIR`, else `$XDG_CACHE_HOME/briefbot`, else
`~/.cache/briefbot` (resolved in bot.config); when it cannot be written the caller falls back to
the data dir.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

__all__ = ["default_cache_dir", "weights_digest", "entry_name", "write_manifest", "verified", "publish",
           "scratch_folder", "writable", "MANIFEST"]

MANIFEST = "manifest.json"


def default_cache_dir(override: Path | None, xdg_cache_home: str | None) -> Path:
    """BRIEFBOT_CACHE_DIR (`override`), else $XDG_CACHE_HOME/briefbot, else ~/.cache/briefbot."""
    if override is not None:
        return override.expanduser()
    # The XDG base directory spec: a relative XDG_CACHE_HOME is invalid and must be ignored.
    xdg = Path(xdg_cache_home) if xdg_cache_home and Path(xdg_cache_home).is_absolute() else None
    return (xdg or Path.home() / ".cache") / "briefbot"


def _file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@lru_cache(maxsize=8)
def _weights_digest(files: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for path, _, _ in files:
        digest.update(Path(path).name.encode() + b"\0" + _file_digest(Path(path)).encode())
    return digest.hexdigest()


def weights_digest(model_path: Path, memo: Path | None = None) -> str:
    """sha256 over the model's weight files (names and contents); memoised per process by size and mtime,
    and in `memo` across processes: hashing 90 MB took 0.08 s of every one-shot `briefbot ask`."""
    files = sorted(model_path.glob("*.safetensors")) + sorted(model_path.glob("*.bin"))
    stats = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    key = json.dumps(stats)
    remembered = _read_memo(memo)
    if key in remembered:
        return remembered[key]
    digest = _weights_digest(stats)
    if memo is not None:
        _write_memo(memo, dict([*list(remembered.items())[-7:], (key, digest)]))
    return digest


def _read_memo(memo: Path | None) -> dict[str, str]:
    try:
        found = json.loads(memo.read_text()) if memo is not None else {}
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _write_memo(memo: Path, entries: dict[str, str]) -> None:
    """Best effort (an unwritable cache only costs the hashing next time); atomic, so readers never see half."""
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f".{memo.name}.{os.getpid()}")
        tmp.write_text(json.dumps(entries))
        os.replace(tmp, memo)
    except OSError:
        pass


def entry_name(model_id: str, weights: str, openvino: str, cpu: str) -> str:
    """The entry's folder name: a different model, OpenVINO release or CPU never reuses an entry."""
    version = "".join(c if c.isalnum() or c in "._" else "_" for c in openvino.split("-")[0])
    return f"{model_id}-{weights[:16]}-ov{version}-cpu{cpu}"


def write_manifest(folder: Path, info: Mapping[str, object]) -> None:
    """Record every file of the entry (and `info`); called last, so its presence means the entry is complete."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        files[path.relative_to(folder).as_posix()] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                                                      "sha256": _file_digest(path)}
    (folder / MANIFEST).write_text(json.dumps({**info, "files": files}, indent=2))


def verified(folder: Path, skip: str = "compiled") -> dict[str, object] | None:
    """The manifest of a complete, intact entry, else None (missing, partial or changed files).

    A file whose size and mtime are as recorded is trusted without re-hashing (hashing the 90 MB model
    costs ~0.1 s per command); any other file is hashed and must match. `skip`: a sub-folder the
    manifest does not cover (OpenVINO's own compiled-model cache, which it validates itself).
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        files: dict[str, dict[str, object]] = manifest["files"]
        for name, want in files.items():
            stat = (folder / name).stat()
            if stat.st_size != want["size"]:
                return None
            if stat.st_mtime_ns != want["mtime_ns"] and _file_digest(folder / name) != want["sha256"]:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    extra = {p for p in present - set(files) - {MANIFEST} if not p.startswith(f"{skip}/")}
    return None if extra else manifest


def scratch_folder(final: Path) -> Path:
    """A fresh temporary folder beside `final` (same file system, so publishing is one rename)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".tmp-{final.name}-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir()
    return tmp


def publish(tmp: Path, final: Path) -> Path:
    """Move a finished entry into place atomically; a verified entry already there (a concurrent run) wins."""
    for _ in range(3):
        try:
            os.rename(tmp, final)
            return final
        except OSError:
            if verified(final) is not None:
                shutil.rmtree(tmp, ignore_errors=True)
                return final
            # A corrupt entry: move it aside first (one rename), then remove it at leisure.
            trash = final.parent / f".trash-{final.name}-{os.getpid()}-{time.monotonic_ns()}"
            try:
                os.rename(final, trash)
            except FileNotFoundError:
                continue
            shutil.rmtree(trash, ignore_errors=True)
    raise OSError(f"cannot publish {tmp} as {final}")


def writable(folder: Path) -> bool:
    """True when files can be created under `folder` (created if missing); a read-only cache is not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}-{time.monotonic_ns()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False
