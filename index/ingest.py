"""The ingest stage: files → parsed articles → deduplicated → chunked → embedded → new generation.

Parsing, cleaning and chunking run in a producer thread while the main thread embeds (PyTorch
releases the GIL inside its kernels), so both cores stay busy; passages are embedded in groups
sorted by length so each batch carries little padding.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.chunk import chunk_article
from index.embed import Embedder
from index.errors import RejectedInput
from index.parse import SUPPORTED_SUFFIXES, content_key, parse_file
from index.precision import FLOAT32
from index.records import Article
from index.store import (FORMAT_VERSION, Manifest, NewArticle, Snapshot, current_folder, stored_format, write_generation,
                         writer_lock)

__all__ = ["IngestReport", "ingest_paths", "rebuild", "restructure", "embedding_text", "collect_files", "embed_chunks",
           "EMBED_BATCH", "EMBED_GROUP"]

Progress = Callable[[int, int], None]
# Model batch size and the group of passages sorted by length before batching (bench/run.py measures them).
EMBED_BATCH = 32
EMBED_GROUP = 256


@dataclass
class IngestReport:
    """What one ingest run did, per article and per file."""

    added: list[Article] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[RejectedInput] = field(default_factory=list)
    unchanged_files: int = 0
    chunks: int = 0
    manifest: Manifest | None = None
    # The older index format this run rebuilt from before adding anything (None: no rebuild needed).
    rebuilt_from: int | None = None


def embedding_text(title: str, chunk_text: str) -> str:
    """Chunks are embedded with their title as context: passages often never name their subject."""
    return f"{title}\n{chunk_text}"


def collect_files(paths: Iterable[Path], report: IngestReport) -> list[Path]:
    """Files under the given paths, recursively and in a stable order; hidden files are skipped."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*"))
                         if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.is_file():
            files.append(path)
        else:
            report.rejected.append(RejectedInput(str(path), "no such file or directory"))
    return files


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ingest_paths(data_dir: Path, paths: Sequence[Path], embedder: Callable[[], Embedder], model_id: str,
                 progress: Progress | None = None) -> IngestReport:
    """Add the articles found under `paths`; unchanged files and known articles cost nothing.

    An index in an older format is first rebuilt from its stored articles (`report.rebuilt_from`).
    """
    report = IngestReport()
    if (found := stored_format(data_dir)) not in (None, FORMAT_VERSION):
        rebuild(data_dir, embedder(), progress)
        report.rebuilt_from = found
    with writer_lock(data_dir):
        base = Snapshot.open(data_dir, model_id) if current_folder(data_dir) else None
        try:
            new: list[NewArticle] = []
            files: dict[str, str] = {}
            model: Embedder | None = None
            parts: list[np.ndarray] = []
            pending: list[str] = []
            done = known = 0
            for item in _produce(collect_files(paths, report), base, report, files):
                new.append(item)
                pending.extend(embedding_text(item.article.title, c.text) for c in item.chunks)
                known += len(item.chunks)
                if len(pending) >= EMBED_GROUP:
                    model = model or embedder()
                    parts.append(_embed_sorted(model, pending))
                    done += len(pending)
                    pending = []
                    if progress:
                        progress(done, known)
            if pending:
                model = model or embedder()
                parts.append(_embed_sorted(model, pending))
                if progress:
                    progress(known, known)
            if new or (files and base):
                dimension = model.dimension if model else base.manifest.dimension  # type: ignore[union-attr]
                vectors = np.vstack(parts) if parts else np.empty((0, dimension), np.float32)
                report.manifest = write_generation(data_dir, base, new, vectors, files, model_id, dimension,
                                                   getattr(model, "precision", FLOAT32))
        finally:
            if base:
                base.close()
    report.added = [n.article for n in new]
    report.chunks = sum(len(n.chunks) for n in new)
    return report


_DONE = object()


def _produce(files: list[Path], base: Snapshot | None, report: IngestReport, fingerprints: dict[str, str]) -> Iterator[NewArticle]:
    """New articles from a parsing thread, so parsing overlaps the caller's embedding."""
    channel: queue.Queue[object] = queue.Queue(maxsize=64)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in _accept(files, base, report, fingerprints):
                while not stop.is_set():
                    try:
                        channel.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            channel.put(_DONE)
        except BaseException as error:  # re-raised in the consuming thread
            channel.put(error)

    thread = threading.Thread(target=work, name="briefbot-parse", daemon=True)
    thread.start()
    try:
        while True:
            item = channel.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


def _accept(files: list[Path], base: Snapshot | None, report: IngestReport,
            fingerprints: dict[str, str]) -> Iterator[NewArticle]:
    """Parse changed files and yield articles not already stored (by content, id or URL)."""
    seen_keys: set[str] = set()
    seen_ids: set[str] = set()
    for path in files:
        key = str(path.resolve())
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            report.rejected.append(RejectedInput(str(path), f"unknown extension '{path.suffix}'; supported: "
                                                 + " ".join(sorted(SUPPORTED_SUFFIXES))))
            continue
        try:
            fingerprint = _fingerprint(path)
            if base and base.file_fingerprint(key) == fingerprint:
                report.unchanged_files += 1
                continue
            parsed = parse_file(path)
        except RejectedInput as rejection:
            report.rejected.append(rejection)
            continue
        except OSError as error:
            report.rejected.append(RejectedInput(str(path), f"cannot read file ({error.strerror}); check permissions"))
            continue
        report.rejected.extend(parsed.rejected)
        fingerprints[key] = fingerprint
        for article in parsed.articles:
            content = content_key(article.body)
            duplicate = (content in seen_keys or article.id in seen_ids
                         or (base is not None and (base.has_content(content) or base.has_article_id(article.id))))
            if duplicate:
                report.duplicates.append(f"{path}: '{article.title}' is already indexed")
                continue
            seen_keys.add(content)
            seen_ids.add(article.id)
            yield NewArticle(article, content, tuple(chunk_article(article)))


def _embed_sorted(embedder: Embedder, texts: Sequence[str], batch_size: int = EMBED_BATCH) -> np.ndarray:
    """Embed a group longest-first (little padding per batch), rows returned in the input order."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    vectors = embedder.embed([texts[i] for i in order], batch_size=batch_size)
    out = np.empty_like(vectors)
    out[order] = vectors
    return out


def embed_chunks(new: Sequence[NewArticle], embedder: Embedder, progress: Progress | None,
                 group: int = EMBED_GROUP, batch_size: int = EMBED_BATCH) -> np.ndarray:
    """Embed every chunk in length-sorted groups, reporting progress in passages."""
    texts = [embedding_text(n.article.title, c.text) for n in new for c in n.chunks]
    parts = []
    for start in range(0, len(texts), group):
        parts.append(_embed_sorted(embedder, texts[start : start + group], batch_size))
        if progress:
            progress(min(start + group, len(texts)), len(texts))
    return np.vstack(parts) if parts else np.empty((0, embedder.dimension), np.float32)


def rebuild(data_dir: Path, embedder: Embedder, progress: Progress | None = None) -> Manifest:
    """Re-embed every stored article with `embedder` into a fresh generation (after a model change)."""
    with writer_lock(data_dir):
        old = Snapshot.open(data_dir, any_format=True)
        rows = old.query("SELECT seq, content_key FROM articles ORDER BY seq")
        articles = old.articles(order="seq")
        files = {r[0]: r[1] for r in old.query("SELECT path, fingerprint FROM files")}
        old.close()
        new = [NewArticle(a, r["content_key"], tuple(chunk_article(a))) for a, r in zip(articles, rows)]
        vectors = embed_chunks(new, embedder, progress)
        return write_generation(data_dir, None, new, vectors, files, embedder.model_id, embedder.dimension,
                                getattr(embedder, "precision", FLOAT32))


def restructure(data_dir: Path, structure: str) -> Manifest:
    """Publish the current index with another vector structure ("flat", "hnsw-sq8", or "auto" by size).

    Nothing is re-embedded: the vectors come from the flat index or the float16 copy kept beside an
    approximate one; articles, chunks and the BM25 index are carried over unchanged.
    """
    with writer_lock(data_dir):
        base = Snapshot.open(data_dir)
        try:
            m = base.manifest
            return write_generation(data_dir, base, [], np.empty((0, m.dimension), np.float32), {}, m.model,
                                    m.dimension, m.precision, structure)
        finally:
            base.close()
