"""The inbox folder: files dropped there are ingested, then moved out of the way. Telegram-free.

- ingested (at least one new article, or only already-known ones) → `<data_dir>/articles/` (the
  article store), under a unique name;
- unreadable / unparsable (every record rejected) → `<inbox>/rejected/<name>` with `<name>.reason`;
- only already-indexed articles → `<inbox>/duplicates/`;
- a file is never looked at twice (it is always moved), so a bad file cannot loop or block others.
Files still being written (modified less than `settle_seconds` ago) and hidden files (`.name`,
used for atomic writes by the feed poller) wait for the next poll. Call from a worker thread.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from index.errors import RejectedInput
from index.records import Article

__all__ = ["InboxResult", "process_inbox", "REJECTED_DIR", "unique_destination"]

REJECTED_DIR = "rejected"
DUPLICATES_DIR = "duplicates"
_LOG = logging.getLogger(__name__)


@dataclass
class InboxResult:
    added: list[Article] = field(default_factory=list)
    stored: list[Path] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # file name → reason
    duplicates: int = 0


def unique_destination(folder: Path, name: str, content: bytes | None = None) -> Path:
    """folder/name, or folder/stem.<hash>.suffix (then .<hash>-n) if the name is taken."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        return target
    stem, suffix = Path(name).stem, Path(name).suffix
    tag = hashlib.sha256(content or name.encode()).hexdigest()[:8]
    target, n = folder / f"{stem}.{tag}{suffix}", 1
    while target.exists():
        target, n = folder / f"{stem}.{tag}-{n}{suffix}", n + 1
    return target


def _ready_files(inbox: Path, settle_seconds: float) -> list[Path]:
    if not inbox.is_dir():
        return []
    now = time.time()
    files = []
    for path in sorted(inbox.iterdir()):
        if path.name.startswith(".") or not path.is_file() or path.name.endswith(".reason"):
            continue
        try:
            if now - path.stat().st_mtime < settle_seconds:
                continue
        except OSError:
            continue
        files.append(path)
    return files


def _reject(path: Path, inbox: Path, reason: str, result: InboxResult) -> None:
    target = unique_destination(inbox / REJECTED_DIR, path.name)
    try:
        shutil.move(str(path), target)
    except OSError as error:  # cannot move it: delete so it is not retried forever
        _LOG.error("inbox: cannot move rejected %s (%s); removing it", path, error)
        path.unlink(missing_ok=True)
    target.with_name(target.name + ".reason").write_text(reason.rstrip() + "\n", encoding="utf-8")
    result.rejected[path.name] = reason
    _LOG.warning("inbox: rejected %s: %s", path.name, reason)


def process_inbox(engine: object, inbox: Path, articles_dir: Path, settle_seconds: float = 1.0) -> InboxResult:
    """Ingest every ready file in `inbox` (one index generation for the whole batch)."""
    result = InboxResult()
    files = _ready_files(inbox, settle_seconds)
    if not files:
        return result
    try:
        reports = [(files, engine.ingest(files))]  # type: ignore[attr-defined]
    except Exception as error:  # one poisonous file must not block the others: retry one by one
        _LOG.warning("inbox: batch ingest failed (%r); ingesting files one by one", error)
        reports = []
        for path in files:
            try:
                reports.append(([path], engine.ingest([path])))  # type: ignore[attr-defined]
            except Exception as single:
                _reject(path, inbox, f"ingest failed: {single!r}", result)
    for batch, report in reports:
        by_file: dict[str, list[RejectedInput]] = {}
        for rejection in report.rejected:
            by_file.setdefault(str(Path(rejection.path).resolve()), []).append(rejection)
        added_from = {str(Path(a.path).resolve()) for a in report.added if a.path}
        result.added.extend(report.added)
        result.duplicates += len(report.duplicates)
        for path in batch:
            key = str(path.resolve())
            problems = by_file.get(key, [])
            whole_file = any(p.line is None and not p.reason.startswith("record ") for p in problems)
            if problems and (whole_file or key not in added_from and not _had_duplicates(report, path)):
                reasons = "\n".join(f"line {p.line}: {p.reason}" if p.line else p.reason for p in problems)
                _reject(path, inbox, reasons, result)
                continue
            if problems:  # some records were fine: keep the file, note the bad records beside it
                note = unique_destination(inbox / REJECTED_DIR, path.name + ".reason")
                note.write_text("\n".join(f"line {p.line}: {p.reason}" if p.line else p.reason for p in problems) + "\n",
                                encoding="utf-8")
            if key not in added_from and _had_duplicates(report, path):
                # Everything in it is already indexed: set aside, not added to the article store twice.
                shutil.move(str(path), unique_destination(inbox / DUPLICATES_DIR, path.name, path.read_bytes()))
                continue
            target = unique_destination(articles_dir, path.name, path.read_bytes())
            shutil.move(str(path), target)
            result.stored.append(target)
    return result


def _had_duplicates(report: object, path: Path) -> bool:
    return any(d.startswith(f"{path}:") for d in report.duplicates)  # type: ignore[attr-defined]
