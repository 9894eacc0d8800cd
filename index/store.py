"""The saved index: immutable generation folders swapped in atomically through a symlink.

data_dir/index/
    current -> gen-00000007      the only thing readers follow; replaced with one rename
    gen-00000007/
        manifest.json            model, dimension, counts, format: written last
        meta.sqlite              articles and chunks (chunk id == vector id)
        vectors.faiss            flat or HNSW (manifest `vector_index`)
        vectors.f16.npy          approximate structures only: the exact vectors, for rebuilds
        bm25/
A writer builds the next generation in a temporary folder and swaps `current` only when
everything is on disk, so a crash or kill mid-write leaves the previous index in place.

Removing or replacing articles also writes a new generation: their chunks go, the remaining chunk ids
are renumbered densely (chunk id == vector id == BM25 row) and the vectors are rebuilt from the stored
ones, never re-embedded. `articles.seq` only ever grows (the alert queue reads it): a replacement keeps
its article's seq, and removed ids and seqs are remembered in `removed`.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import IndexFormatError, IndexMismatchError, IndexMissingError
from index.lexical import LEXICAL_DIR, LexicalIndex
from index.precision import FLOAT32, PRECISIONS
from index.records import Article, Chunk, Citation
from index.vectors import STRUCTURES, choose_structure, load_index, new_index

__all__ = ["CITATION_COLUMNS", "Manifest", "Snapshot", "NewArticle", "write_generation", "writer_lock", "index_root",
           "stored_format", "FORMAT_VERSION", "SAME_PASSAGES_SINCE", "stored_precisions"]

# 2: BM25 indexes each passage with its brief's title. 3: a section heading starts a passage.
# 4: BM25 terms spell British words the American way ("licences" is indexed as "licenses").
# 5: a passage naming the United States ("U.S.", "American") holds the term the gate reads for it (index.lexical).
FORMAT_VERSION = 5
# Passages are cut and embedded alike since format 3; the formats after it differ in their BM25 terms only,
# so such an index is brought up to date by rebuilding its BM25 index, nothing re-embedded (index.ingest.upgrade).
SAME_PASSAGES_SINCE = 3
_MANIFEST = "manifest.json"
_META = "meta.sqlite"
_KEEP_OLD_GENERATIONS = 1
_REMEMBERED_FILTERS = 32
# Citations a snapshot keeps (about 300 bytes each); past this it starts again.
_REMEMBERED_CITATIONS = 50_000
# One snapshot is read at a time in a process: numpy parses each file's header with ast.literal_eval, and on
# CPython 3.11 two threads building ASTs at once can fail with "SystemError: AST constructor recursion depth
# mismatch" (python/cpython#106905). The bot opens snapshots from its question and alert threads.
_READING = threading.Lock()
# What a citation needs of an article (never its body: reading bodies made every search slower).
CITATION_COLUMNS = "a.seq, a.id, a.title, a.source, a.author, a.published_at, a.url, a.path"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, body TEXT NOT NULL,
    highlights TEXT NOT NULL, published_at TEXT, source TEXT, author TEXT, url TEXT, path TEXT,
    content_key TEXT NOT NULL UNIQUE, ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, article_seq INTEGER NOT NULL REFERENCES articles(seq),
    position INTEGER NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks(article_seq, position);
CREATE INDEX IF NOT EXISTS articles_by_date ON articles(published_at);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, fingerprint TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS removed (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, removed_at TEXT NOT NULL);
"""


def index_root(data_dir: Path) -> Path:
    return data_dir / "index"


@dataclass(frozen=True)
class Manifest:
    """What a generation folder holds; a reader refuses a folder that does not match its model."""

    format_version: int
    model: str
    dimension: int
    count: int
    articles: int
    generation: int
    # The precision(s) the model ran in to make the vectors: "float32", "bfloat16", "int8", or several joined
    # by "+" after incremental ingests in different precisions (all float32 unit rows; int8 mixes only
    # where the retrieval gate measured it safe, index.onnx_embed.choose_precision).
    precision: str = "float32"
    vector_index: str = "flat"
    created_at: str = ""
    # True when `briefbot reindex --structure` chose the structure; otherwise it follows the size.
    vector_index_pinned: bool = False

    @property
    def precisions(self) -> frozenset[str]:
        """The precisions the vectors were made in (none for an empty index)."""
        return frozenset(self.precision.split("+")) if self.count else frozenset()

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        return cls(**json.loads((folder / _MANIFEST).read_text()))

    def write(self, folder: Path) -> None:
        _write_durably(folder / _MANIFEST, json.dumps(asdict(self), indent=2).encode())


@dataclass(frozen=True)
class NewArticle:
    """An article accepted for indexing, with its chunks and their vectors."""

    article: Article
    content_key: str
    chunks: tuple[Chunk, ...]


class Snapshot:
    """A read-only view of one generation; stays valid while newer generations are written."""

    def __init__(self, folder: Path, manifest: Manifest) -> None:
        self.folder = folder
        self.manifest = manifest
        # immutable=1: the file never changes once published, so SQLite can skip locking.
        self._db = sqlite3.connect(f"file:{folder / _META}?immutable=1", uri=True, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._chunk_ids: dict[tuple[str, tuple[object, ...]], np.ndarray] = {}
        self._citations: dict[int, Citation] = {}
        with _READING:
            try:
                self.vectors = load_index(folder, manifest.vector_index)
            except (ValueError, RuntimeError) as error:
                self._db.close()
                raise IndexMismatchError(f"index at {folder} is unreadable: {error}; rebuild it with `briefbot reindex`") from error
            self.lexical = LexicalIndex.load(folder, manifest.count)
        if self.vectors.count != manifest.count:
            raise IndexMismatchError(
                f"index at {folder} is inconsistent: manifest says {manifest.count} passages, "
                f"vectors hold {self.vectors.count}; rebuild it with `briefbot reindex`"
            )

    @classmethod
    def open(cls, data_dir: Path, model_id: str | None = None, dimension: int | None = None,
             any_format: bool = False) -> Snapshot:
        """The current generation; a model/dimension/format mismatch fails with what to do.

        `any_format`: also open an older format, to rebuild it from its stored articles.
        """
        folder = current_folder(data_dir)
        if folder is None:
            raise IndexMissingError(f"no index in {data_dir}; build one with `briefbot ingest --data-dir {data_dir} PATH`")
        manifest = Manifest.read(folder)
        check_compatible(manifest if not any_format else replace(manifest, format_version=FORMAT_VERSION),
                         folder, model_id, dimension)
        return cls(folder, manifest)

    def close(self) -> None:
        self._db.close()

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        return self._db.execute(sql, params).fetchall()

    def chunks(self, ids: Sequence[int]) -> dict[int, tuple[Chunk, Citation]]:
        """Chunks by id with their article's citation."""
        if not len(ids):
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._tuples(f"SELECT id, article_seq, position, text FROM chunks WHERE id IN ({marks})", [int(i) for i in ids])
        citations = self.citations([r[1] for r in rows])
        return {r[0]: (Chunk(citations[r[1]].article_id, r[2], r[3]), citations[r[1]]) for r in rows}

    def passages_of(self, seqs: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Chunk ids, positions and article seqs of every passage of these articles, in article then passage order."""
        rows = self._tuples(f"SELECT id, position, article_seq FROM chunks WHERE article_seq IN ({','.join('?' * len(seqs))}) "
                            "ORDER BY article_seq, position", list(seqs)) if len(seqs) else []
        found = np.array(rows, np.int64).reshape(-1, 3)
        return found[:, 0], found[:, 1], found[:, 2]

    def _tuples(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        """Rows as plain tuples: the question path reads hundreds a question, and a Row each cost more than the read."""
        cursor = self._db.cursor()
        cursor.row_factory = None
        return cursor.execute(sql, params).fetchall()

    def citations(self, seqs: Collection[int]) -> dict[int, Citation]:
        """Articles' citations by seq, remembered: a question reads the same few briefs several times (its
        passages, the story check), and building them from joined rows cost more than the query itself."""
        remembered = self._citations  # another thread may start it again meanwhile
        found = {seq: remembered[seq] for seq in seqs if seq in remembered}
        missing = [seq for seq in set(seqs) if seq not in found]
        if missing:
            rows = self.query(f"SELECT {CITATION_COLUMNS} FROM articles a WHERE a.seq IN ({','.join('?' * len(missing))})",
                              missing)
            read = {r["seq"]: citation_from_row(r) for r in rows}
            if len(remembered) + len(read) > _REMEMBERED_CITATIONS:
                self._citations = remembered = {}
            remembered.update(read)
            found.update(read)
        return found

    def chunk_ids(self, where: str, params: Sequence[object] = ()) -> np.ndarray:
        """Ids of chunks whose article matches an SQL condition on `a` (remembered: a generation never changes,
        and one question asks for the same as-of set from the search and the story)."""
        key = (where, tuple(params))
        found = self._chunk_ids.get(key)
        if found is None:
            rows = self.query(f"SELECT c.id FROM chunks c JOIN articles a ON a.seq = c.article_seq WHERE {where}", params)
            found = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            found.flags.writeable = False
            if len(self._chunk_ids) >= _REMEMBERED_FILTERS:
                self._chunk_ids.pop(next(iter(self._chunk_ids)))
            self._chunk_ids[key] = found
        return found

    def article(self, article_id: str) -> Article | None:
        rows = self.query("SELECT * FROM articles WHERE id = ?", [article_id])
        return article_from_row(rows[0]) if rows else None

    def articles(self, where: str = "1", params: Sequence[object] = (), order: str = "seq", limit: int = -1) -> list[Article]:
        rows = self.query(f"SELECT * FROM articles a WHERE {where} ORDER BY {order} LIMIT ?", [*params, limit])
        return [article_from_row(r) for r in rows]

    def has_content(self, content_key: str) -> bool:
        return bool(self.query("SELECT 1 FROM articles WHERE content_key = ?", [content_key]))

    def has_article_id(self, article_id: str) -> bool:
        return bool(self.query("SELECT 1 FROM articles WHERE id = ?", [article_id]))

    def content_key_of(self, article_id: str) -> str | None:
        rows = self.query("SELECT content_key FROM articles WHERE id = ?", [article_id])
        return rows[0][0] if rows else None

    def was_removed(self, article_id: str) -> bool:
        """Taken out by `remove` (and not added back since); generations from before removals have no table."""
        if not self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'removed'"):
            return False
        return bool(self.query("SELECT 1 FROM removed r WHERE r.id = ? AND NOT EXISTS "
                               "(SELECT 1 FROM articles a WHERE a.id = r.id)", [article_id]))

    def file_fingerprint(self, path: str) -> str | None:
        rows = self.query("SELECT fingerprint FROM files WHERE path = ?", [path])
        return rows[0][0] if rows else None


def citation_from_row(row: sqlite3.Row) -> Citation:
    return Citation(
        article_id=row["id"], title=row["title"], source=row["source"], author=row["author"],
        published_at=_date(row["published_at"]), url=row["url"], path=row["path"])


def article_from_row(row: sqlite3.Row) -> Article:
    return Article(
        id=row["id"], title=row["title"], body=row["body"], highlights=tuple(json.loads(row["highlights"])),
        published_at=_date(row["published_at"]), source=row["source"], author=row["author"],
        url=row["url"], path=row["path"])


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def check_compatible(manifest: Manifest, folder: Path, model_id: str | None, dimension: int | None) -> None:
    """Fail loudly, saying how to fix it, when an index cannot serve the configured model."""
    if manifest.format_version != FORMAT_VERSION:
        raise IndexFormatError(
            f"index at {folder} has format version {manifest.format_version}, this briefbot reads {FORMAT_VERSION}; "
            "rebuild it with `briefbot reindex`")
    unknown = [p for p in manifest.precision.split("+") if p not in PRECISIONS]
    if unknown:
        raise IndexMismatchError(
            f"index at {folder} was embedded in precision '{manifest.precision}', which this briefbot does not know "
            f"(known: {', '.join(PRECISIONS)}); rebuild it with `briefbot reindex`")
    if manifest.vector_index not in STRUCTURES:
        raise IndexMismatchError(
            f"index at {folder} uses vector structure '{manifest.vector_index}', which this briefbot cannot read "
            f"(known: {', '.join(STRUCTURES)}); change it with `briefbot reindex --structure flat`")
    if model_id is not None and (manifest.model != model_id or (dimension and manifest.dimension != dimension)):
        raise IndexMismatchError(
            f"index at {folder} was built with model '{manifest.model}' ({manifest.dimension}-d) but the configured "
            f"model is '{model_id}' ({dimension}-d); rebuild it with `briefbot reindex` or set BRIEFBOT_MODEL back")


def stored_format(data_dir: Path) -> int | None:
    """The format version of the current generation, or None when there is no index yet."""
    folder = current_folder(data_dir)
    return Manifest.read(folder).format_version if folder else None


def stored_precisions(data_dir: Path) -> frozenset[str]:
    """The precisions the current generation's vectors were made in (empty when there is no index yet)."""
    folder = current_folder(data_dir)
    return Manifest.read(folder).precisions if folder else frozenset()


def current_folder(data_dir: Path) -> Path | None:
    """The generation `current` points to (a name beside it), or None. Read on every question: one readlink,
    where Path.resolve walked every folder of the path (1.5 ms of a 30 ms answer)."""
    root = index_root(data_dir).absolute()
    try:
        folder = root / os.readlink(root / "current")
    except OSError:  # no index yet
        return None
    return folder if folder.is_dir() else None


@contextmanager
def writer_lock(data_dir: Path) -> Iterator[None]:
    """One writer at a time per data dir (ingest CLI, the bot's inbox poller)."""
    root = index_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_generation(
    data_dir: Path, base: Snapshot | None, new: Sequence[NewArticle], vectors: np.ndarray,
    files: dict[str, str], model_id: str, dimension: int, precision: str = FLOAT32, structure: str | None = None,
    drop: Collection[str] = (),
) -> Manifest:
    """Publish base − `drop` + new articles as the next generation. Call under `writer_lock`.

    `structure`: a vector index structure to pin ("auto" unpins); None keeps a pinned one or follows the size.
    `drop`: article ids to take out; one that `new` brings back is replaced (it keeps its seq and ingest time).
    """
    root = index_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(root)
    tmp = root / f"tmp-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir()
    db = _copy_meta(base, tmp / _META)
    dropped = _drop(db, drop, {item.article.id for item in new})
    _insert(db, new, files, dropped.previous)
    n_articles = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    vectors = vectors.reshape(-1, dimension)
    kept = (base.manifest.count if base else 0) - len(dropped.chunk_ids)
    count = kept + len(vectors)
    pinned = structure not in (None, "auto") or (structure is None and bool(base and base.manifest.vector_index_pinned))
    if structure not in (None, "auto"):
        target = structure
    elif pinned and base:
        target = base.manifest.vector_index
    else:
        target = choose_structure(count)
    # The base's index file is reused only when every vector in it stays at its position.
    reuse = base is not None and base.manifest.vector_index == target and not len(dropped.chunk_ids)
    if reuse:
        index = load_index(base.folder, target)  # type: ignore[union-attr]  # a private copy: readers keep theirs
    else:
        index = new_index(target, dimension)
        if base and kept:
            index.add(np.delete(base.vectors.source_vectors(base.folder), dropped.chunk_ids, axis=0))
    index.add(vectors)
    index.save(tmp, base.folder if reuse else None)  # type: ignore[union-attr]
    if new or base is None or len(dropped.chunk_ids) or base.manifest.format_version != FORMAT_VERSION:
        LexicalIndex.build([r[0] for r in db.execute(
            "SELECT a.title || char(10) || c.text FROM chunks c JOIN articles a ON a.seq = c.article_seq ORDER BY c.id")]).save(tmp)
    else:  # same passages, same terms: the BM25 index is reused as is
        shutil.copytree(base.folder / LEXICAL_DIR, tmp / LEXICAL_DIR)
    db.close()
    generation = 1 + max((int(p.name[4:]) for p in root.glob("gen-*")), default=0)
    manifest = Manifest(FORMAT_VERSION, model_id, dimension, index.count, n_articles, generation,
                        precision=_merge_precision(base.manifest if base and kept else None, precision, len(vectors)),
                        vector_index=target, vector_index_pinned=pinned,
                        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    manifest.write(tmp)
    _fsync_tree(tmp)
    final = root / f"gen-{generation:08d}"
    os.replace(tmp, final)
    _point_current(root, final)
    _remove_old_generations(root, keep=final)
    return manifest


def _merge_precision(base: Manifest | None, precision: str, added: int) -> str:
    if base is None or base.count == 0:
        return precision
    if not added:
        return base.precision
    return "+".join(sorted(set(base.precision.split("+")) | {precision}))


def _copy_meta(base: Snapshot | None, target: Path) -> sqlite3.Connection:
    db = sqlite3.connect(target)
    if base is not None:
        source = sqlite3.connect(f"file:{base.folder / _META}?mode=ro", uri=True)
        source.backup(db)
        source.close()
    db.executescript(_SCHEMA)
    return db


@dataclass(frozen=True)
class _Dropped:
    """What `_drop` took out: the old chunk ids (ascending), and seq/ingest time of articles being replaced."""

    chunk_ids: np.ndarray
    previous: Mapping[str, tuple[int, str]]


def _drop(db: sqlite3.Connection, ids: Collection[str], replaced: Collection[str]) -> _Dropped:
    """Delete articles and their chunks, renumber the remaining chunks densely, remember removals."""
    if not ids:
        return _Dropped(np.empty(0, np.int64), {})
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with db:
        # A temporary table, not `IN (?, …)`: a reindex drops every article, past SQLite's parameter limit.
        db.execute("CREATE TEMP TABLE dropping (id TEXT PRIMARY KEY)")
        db.executemany("INSERT OR IGNORE INTO dropping (id) VALUES (?)", [(i,) for i in ids])
        rows = db.execute("SELECT a.id, a.seq, a.ingested_at FROM articles a JOIN dropping d ON d.id = a.id").fetchall()
        chunk_ids = np.fromiter((r[0] for r in db.execute(
            "SELECT c.id FROM chunks c JOIN articles a ON a.seq = c.article_seq JOIN dropping d ON d.id = a.id "
            "ORDER BY c.id")), dtype=np.int64)
        db.execute("DELETE FROM chunks WHERE article_seq IN (SELECT a.seq FROM articles a JOIN dropping d ON d.id = a.id)")
        db.execute("DELETE FROM articles WHERE id IN (SELECT id FROM dropping)")
        db.executemany("INSERT OR REPLACE INTO removed (id, seq, removed_at) VALUES (?, ?, ?)",
                       [(r[0], r[1], now) for r in rows if r[0] not in replaced])
        db.execute("DROP TABLE dropping")
        _renumber_chunks(db)
    return _Dropped(chunk_ids, {r[0]: (r[1], r[2]) for r in rows if r[0] in replaced})


def _renumber_chunks(db: sqlite3.Connection) -> None:
    """Chunk ids 0…n-1 in their old order: they are the rows of the vector and BM25 indexes."""
    db.execute("CREATE TEMP TABLE renumber (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)")
    db.execute("INSERT INTO renumber SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 FROM chunks")
    # Through negative ids, so no intermediate value collides with a row not yet moved.
    db.execute("UPDATE chunks SET id = -1 - (SELECT new FROM renumber WHERE old = chunks.id)")
    db.execute("UPDATE chunks SET id = -1 - id")
    db.execute("DROP TABLE renumber")


def _insert(db: sqlite3.Connection, new: Sequence[NewArticle], files: dict[str, str],
            previous: Mapping[str, tuple[int, str]]) -> None:
    next_chunk = db.execute("SELECT COALESCE(MAX(id) + 1, 0) FROM chunks").fetchone()[0]
    # seq never goes back (the alert queue's high-water mark is a seq): past removed and replaced ones too.
    next_seq = 1 + max(db.execute("SELECT COALESCE(MAX(seq), 0) FROM articles").fetchone()[0],
                       db.execute("SELECT COALESCE(MAX(seq), 0) FROM removed").fetchone()[0],
                       max((seq for seq, _ in previous.values()), default=0))
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with db:
        for item in new:
            a = item.article
            seq, ingested_at = previous.get(a.id, (next_seq, now))
            next_seq += a.id not in previous
            db.execute(
                "INSERT INTO articles (seq, id, title, body, highlights, published_at, source, author, url, path, "
                "content_key, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (seq, a.id, a.title, a.body, json.dumps(list(a.highlights)), a.published_at.isoformat() if a.published_at else None,
                 a.source, a.author, a.url, a.path, item.content_key, ingested_at))
            for chunk in item.chunks:
                db.execute("INSERT INTO chunks (id, article_seq, position, text) VALUES (?,?,?,?)",
                           (next_chunk, seq, chunk.position, chunk.text))
                next_chunk += 1
        db.executemany("INSERT OR REPLACE INTO files (path, fingerprint) VALUES (?, ?)", files.items())


def _point_current(root: Path, target: Path) -> None:
    link = root / "current.tmp"
    link.unlink(missing_ok=True)
    link.symlink_to(target.name)
    os.replace(link, root / "current")
    _fsync_dir(root)


def _remove_old_generations(root: Path, keep: Path) -> None:
    # The previous generation stays so a reader that resolved `current` a moment ago can still open it.
    generations = sorted(p for p in root.glob("gen-*") if p != keep)
    for old in generations[: max(0, len(generations) - _KEEP_OLD_GENERATIONS)]:
        shutil.rmtree(old, ignore_errors=True)


def _remove_stale_temporaries(root: Path) -> None:
    for tmp in root.glob("tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
