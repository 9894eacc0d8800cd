"""The ingest stage: files → parsed articles → deduplicated → chunked → embedded → new generation."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.chunk import chunk_article
from index.embed import Embedder
from index.errors import RejectedInput
from index.parse import SUPPORTED_SUFFIXES, content_key, parse_file
from index.records import Article
from index.store import Manifest, NewArticle, Snapshot, current_folder, write_generation, writer_lock

__all__ = ["IngestReport", "ingest_paths", "rebuild", "embedding_text", "collect_files", "embed_chunks"]

Progress = Callable[[int, int], None]
EMBED_BATCH = 64


@dataclass
class IngestReport:
    """What one ingest run did, per article and per file."""

    added: list[Article] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[RejectedInput] = field(default_factory=list)
    unchanged_files: int = 0
    chunks: int = 0
    manifest: Manifest | None = None


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
    """Add the articles found under `paths`; unchanged files and known articles cost nothing."""
    report = IngestReport()
    with writer_lock(data_dir):
        base = Snapshot.open(data_dir, model_id) if current_folder(data_dir) else None
        new, files = _accept(collect_files(paths, report), base, report)
        if new or (files and base):
            model = embedder() if new else None
            dimension = model.dimension if model else base.manifest.dimension  # type: ignore[union-attr]
            vectors = embed_chunks(new, model, progress) if model else np.empty((0, dimension), np.float32)
            report.manifest = write_generation(data_dir, base, new, vectors, files, model_id, dimension)
        if base:
            base.close()
    report.added = [n.article for n in new]
    report.chunks = sum(len(n.chunks) for n in new)
    return report


def _accept(files: list[Path], base: Snapshot | None, report: IngestReport) -> tuple[list[NewArticle], dict[str, str]]:
    """Parse changed files and keep articles not already stored (by content, id or URL)."""
    new: list[NewArticle] = []
    seen_keys: set[str] = set()
    seen_ids: set[str] = set()
    fingerprints: dict[str, str] = {}
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
            new.append(NewArticle(article, content, tuple(chunk_article(article))))
    return new, fingerprints


def embed_chunks(new: Sequence[NewArticle], embedder: Embedder, progress: Progress | None) -> np.ndarray:
    """Embed every chunk in batches, reporting progress in passages."""
    texts = [embedding_text(n.article.title, c.text) for n in new for c in n.chunks]
    parts = []
    for start in range(0, len(texts), EMBED_BATCH):
        parts.append(embedder.embed(texts[start : start + EMBED_BATCH], batch_size=EMBED_BATCH))
        if progress:
            progress(min(start + EMBED_BATCH, len(texts)), len(texts))
    return np.vstack(parts) if parts else np.empty((0, embedder.dimension), np.float32)


def rebuild(data_dir: Path, embedder: Embedder, progress: Progress | None = None) -> Manifest:
    """Re-embed every stored article with `embedder` into a fresh generation (after a model change)."""
    with writer_lock(data_dir):
        old = Snapshot.open(data_dir)
        rows = old.query("SELECT seq, content_key FROM articles ORDER BY seq")
        articles = old.articles(order="seq")
        files = {r[0]: r[1] for r in old.query("SELECT path, fingerprint FROM files")}
        old.close()
        new = [NewArticle(a, r["content_key"], tuple(chunk_article(a))) for a, r in zip(articles, rows)]
        vectors = embed_chunks(new, embedder, progress)
        return write_generation(data_dir, None, new, vectors, files, embedder.model_id, embedder.dimension)
