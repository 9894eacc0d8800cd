"""The ingest stage: files → parsed articles → deduplicated → chunked → embedded → new generation.

`ingest_paths` skips an article whose id is already stored; with `replace=True` (publishing an edited
post) the stored article is replaced instead. `remove_articles` takes articles out by id or link.

Parsing, cleaning and chunking run in a producer thread while the main thread embeds (PyTorch
releases the GIL inside its kernels), so both cores stay busy; passages are embedded in groups
sorted by length so each batch carries little padding.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace as with_fields
from datetime import date
from pathlib import Path

import numpy as np

from index.brief_rules import content_key
from index.chunk import chunk_article
from index.clean import drop_lines_not_text
from index.embed import Embedder
from index.errors import RejectedInput
from index.parse import SUPPORTED_SUFFIXES, parse_file
from index.precision import FLOAT32
from index.records import Article
from index.store import (FORMAT_VERSION, SAME_PASSAGES_SINCE, Manifest, NewArticle, Snapshot, current_folder,
                         stored_format, write_generation, writer_lock)

__all__ = ["IngestReport", "Provenance", "ingest_paths", "remove_articles", "rebuild", "upgrade", "restructure", "embedding_text",
           "collect_files", "embed_chunks", "EMBED_BATCH", "EMBED_GROUP", "REMOVED_REASON"]

# trafilatura logs ERROR for every page it cannot read; such a page is reported once, as a rejected file
# with its reason, so its own lines would only be noise (an "error" per routine rejection) in the log.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

Progress = Callable[[int, int], None]
# Model batch size and the group of passages sorted by length before batching (bench/run.py measures them).
EMBED_BATCH = 32
EMBED_GROUP = 256
REMOVED_REASON = "was removed from the index by an operator; not added back"


@dataclass
class IngestReport:
    """What one ingest run did, per article and per file."""

    added: list[Article] = field(default_factory=list)
    replaced: list[Article] = field(default_factory=list)  # new versions of stored articles (replace=True)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[RejectedInput] = field(default_factory=list)
    unchanged_files: int = 0
    chunks: int = 0
    manifest: Manifest | None = None
    # The older index format this run rebuilt from before adding anything (None: no rebuild needed).
    rebuilt_from: int | None = None


@dataclass(frozen=True)
class Provenance:
    """What a file cannot say about itself (a post's stable id, channel, link and date); None keeps the parsed value."""

    id: str | None = None
    source: str | None = None
    url: str | None = None
    published_at: date | None = None

    def apply(self, article: Article, number: int) -> Article:
        """The article with these fields set; a file's second and later articles get ids ending in `#n`."""
        changes: dict[str, object] = {k: v for k, v in (("source", self.source), ("url", self.url),
                                                         ("published_at", self.published_at)) if v is not None}
        if self.id is not None:
            changes["id"] = self.id if number == 0 else f"{self.id}#{number + 1}"
        return with_fields(article, **changes)  # type: ignore[arg-type]


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
                 progress: Progress | None = None, *, replace: bool = False,
                 provenance: Provenance | None = None) -> IngestReport:
    """Add the articles found under `paths`; unchanged files and known articles cost nothing.

    An index in an older format is first rebuilt from its stored articles (`report.rebuilt_from`).
    `replace`: an article whose id is stored with other text replaces it (else it is a duplicate).
    `provenance`: fields set on every parsed article before deduplication.
    """
    report = IngestReport()
    if (found := stored_format(data_dir)) not in (None, FORMAT_VERSION):
        if upgrade(data_dir, model_id) is None:
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
            accept = _Acceptor(base, report, files, replace, provenance)
            for item in _produce(collect_files(paths, report), accept):
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
                                                   getattr(model, "precision", FLOAT32),
                                                   drop=[a.id for a in report.replaced])
        finally:
            if base:
                base.close()
    replaced = {a.id for a in report.replaced}
    report.added = [n.article for n in new if n.article.id not in replaced]
    report.chunks = sum(len(n.chunks) for n in new)
    return report


_DONE = object()


def _produce(files: list[Path], accept: _Acceptor) -> Iterator[NewArticle]:
    """New articles from a parsing thread, so parsing overlaps the caller's embedding."""
    channel: queue.Queue[object] = queue.Queue(maxsize=64)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in accept(files):
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


@dataclass
class _Acceptor:
    """Parses changed files and decides, article by article, what is new, replaced or already stored."""

    base: Snapshot | None
    report: IngestReport
    fingerprints: dict[str, str]
    replace: bool = False
    provenance: Provenance | None = None
    seen_keys: set[str] = field(default_factory=set)
    seen_ids: set[str] = field(default_factory=set)

    def __call__(self, files: list[Path]) -> Iterator[NewArticle]:
        for path in files:
            for number, article in enumerate(self._parse(path)):
                if self.provenance:
                    article = self.provenance.apply(article, number)
                item = self._admit(path, article)
                if item:
                    yield item

    def _parse(self, path: Path) -> tuple[Article, ...]:
        """The articles of a changed, readable file of a supported kind (else none, with the reason noted)."""
        report, base, key = self.report, self.base, str(path.resolve())
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            report.rejected.append(RejectedInput(str(path), f"unknown extension '{path.suffix}'; supported: "
                                                 + " ".join(sorted(SUPPORTED_SUFFIXES))))
            return ()
        try:
            fingerprint = _fingerprint(path)
            if base and base.file_fingerprint(key) == fingerprint:
                report.unchanged_files += 1
                return ()
            parsed = parse_file(path)
        except RejectedInput as rejection:
            report.rejected.append(rejection)
            return ()
        except OSError as error:
            report.rejected.append(RejectedInput(str(path), f"cannot read file ({error.strerror}); check permissions"))
            return ()
        report.rejected.extend(parsed.rejected)
        self.fingerprints[key] = fingerprint
        return parsed.articles

    def _admit(self, path: Path, article: Article) -> NewArticle | None:
        """The article to index, or None when it is already stored (by content, or by id unless replacing)."""
        base, content = self.base, content_key(article.body)
        stored = base.content_key_of(article.id) if base else None
        if content in self.seen_keys or article.id in self.seen_ids or (base and base.has_content(content)):
            self.report.duplicates.append(f"{path}: '{article.title}' is already indexed")
            return None
        if stored is not None and not self.replace:
            self.report.duplicates.append(f"{path}: '{article.title}' is already indexed")
            return None
        if self.replace and stored is None and base and base.was_removed(article.id):
            self.report.rejected.append(RejectedInput(str(path), f"'{article.title}' {REMOVED_REASON}"))
            return None
        if stored is not None:
            self.report.replaced.append(article)
        self.seen_keys.add(content)
        self.seen_ids.add(article.id)
        return NewArticle(article, content, tuple(chunk_article(article)))


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
    """Re-embed every stored article with `embedder` into a new generation (after a model change).

    Every article replaces itself, so each keeps its seq: the alert queue's high-water mark stays valid.
    Lines that are not its text (`index.clean.drop_lines_not_text`) go, also those of families learnt since it
    was stored; its content key stays, so it still recognises the text it was first stored from.
    """
    with writer_lock(data_dir):
        old = Snapshot.open(data_dir, any_format=True)
        try:
            rows = old.query("SELECT seq, content_key FROM articles ORDER BY seq")
            articles = [with_fields(a, body=drop_lines_not_text(a.body)) for a in old.articles(order="seq")]
            new = [NewArticle(a, r["content_key"], tuple(chunk_article(a))) for a, r in zip(articles, rows)]
            vectors = embed_chunks(new, embedder, progress)
            return write_generation(data_dir, old, new, vectors, {}, embedder.model_id, embedder.dimension,
                                    getattr(embedder, "precision", FLOAT32), drop=[a.id for a in articles])
        finally:
            old.close()


def upgrade(data_dir: Path, model_id: str) -> Manifest | None:
    """Bring an index of an older format whose passages and vectors are current (`SAME_PASSAGES_SINCE`) up to
    date by rebuilding its BM25 index: seconds, where `rebuild` re-embeds every passage. None when it cannot:
    no index, the current format, a format older than that, or vectors of another model."""
    with writer_lock(data_dir):
        folder = current_folder(data_dir)
        stored = Manifest.read(folder) if folder else None
        if stored is None or not SAME_PASSAGES_SINCE <= stored.format_version < FORMAT_VERSION or stored.model != model_id:
            return None
        base = Snapshot.open(data_dir, any_format=True)
        try:
            return write_generation(data_dir, base, [], np.empty((0, stored.dimension), np.float32), {}, stored.model,
                                    stored.dimension, stored.precision)
        finally:
            base.close()


def remove_articles(data_dir: Path, keys: Sequence[str], model_id: str) -> list[Article]:
    """Take the articles whose id or link is in `keys` out of the index (a new generation); returns them."""
    if not keys or current_folder(data_dir) is None:
        return []
    with writer_lock(data_dir):
        base = Snapshot.open(data_dir, model_id)
        try:
            marks = ",".join("?" * len(keys))
            found = base.articles(f"a.id IN ({marks}) OR a.url IN ({marks})", [*keys, *keys])
            if found:
                m = base.manifest
                write_generation(data_dir, base, [], np.empty((0, m.dimension), np.float32), {}, m.model, m.dimension,
                                 m.precision, drop=[a.id for a in found])
            return found
        finally:
            base.close()


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
