"""The alert worker's persistent state: `<data_dir>/state/alerts.sqlite` (WAL). No Telegram types here.

Tables
- subscriptions(chat_id, topic NULL = every brief, created_at, active) — unique per (chat, topic).
- chats(chat_id, mode instant|daily, digest_time HH:MM, tz, last_digest) — digest settings.
- outbox(id, chat_id, kind, text, markup JSON, status, attempts, next_attempt_at, message_id, …) —
  one row per Telegram message to send. status: pending → sending → sent | failed | cancelled.
- deliveries(chat_id, article_id, outbox_id, state) — PRIMARY KEY (chat_id, article_id): the
  at-most-once ledger; a (brief, chat) pair can be enqueued only once, ever.
  state: queued (has an outbox row) | digest (waiting for the chat's daily digest) | withdrawn (the brief
  was removed before its alert went out).
- alerted(article_id, seq, title_key, vector) — briefs already announced, for near-duplicate checks.
- buttons(short, article_id) — "Ask about this" callback ids (≤ 64 bytes) → article ids.
- feeds(url, etag, modified, failures, next_poll_at, reported) and feed_entries(url, entry_id).
- meta(key, value) — the high-water mark `hwm` of announced `articles.seq`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.events import FeedState  # the feed poller's record (bot/sources/feeds.py keeps it here)

__all__ = ["AlertStore", "Subscription", "ChatSettings", "OutboxRow", "FeedState", "Rerender", "normalize_topic"]

# (outbox kind, the infos of the briefs a message still holds) → (text, markup): a message re-rendered
# after a brief in it was removed.
Rerender = Callable[[str, list[dict[str, Any]]], tuple[str, dict[str, Any] | None]]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (
    id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, topic TEXT, created_at REAL NOT NULL,
    active INTEGER NOT NULL DEFAULT 1);
CREATE UNIQUE INDEX IF NOT EXISTS subscriptions_unique ON subscriptions(chat_id, COALESCE(topic, ''));
CREATE TABLE IF NOT EXISTS chats (
    chat_id INTEGER PRIMARY KEY, mode TEXT NOT NULL DEFAULT 'instant', digest_time TEXT,
    tz TEXT, last_digest TEXT);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,
    markup TEXT, status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0, message_id INTEGER, last_error TEXT,
    created_at REAL NOT NULL, sent_at REAL);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(status, next_attempt_at, id);
CREATE TABLE IF NOT EXISTS deliveries (
    chat_id INTEGER NOT NULL, article_id TEXT NOT NULL, seq INTEGER NOT NULL, outbox_id INTEGER,
    state TEXT NOT NULL, info TEXT, created_at REAL NOT NULL, PRIMARY KEY (chat_id, article_id));
CREATE INDEX IF NOT EXISTS deliveries_digest ON deliveries(state, chat_id);
CREATE TABLE IF NOT EXISTS alerted (
    article_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, title_key TEXT NOT NULL, vector BLOB,
    duplicate_of TEXT, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS buttons (short TEXT PRIMARY KEY, article_id TEXT NOT NULL, title TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, etag TEXT, modified TEXT, failures INTEGER NOT NULL DEFAULT 0,
    next_poll_at REAL NOT NULL DEFAULT 0, reported INTEGER NOT NULL DEFAULT 0, last_error TEXT);
CREATE TABLE IF NOT EXISTS feed_entries (url TEXT NOT NULL, entry_id TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (url, entry_id));
"""


def normalize_topic(topic: str | None) -> str | None:
    """Topics compare case- and space-insensitively; empty means "every brief"."""
    if topic is None:
        return None
    text = " ".join(topic.split()).strip().lower()
    return text[:200] or None


@dataclass(frozen=True)
class Subscription:
    chat_id: int
    topic: str | None
    created_at: float
    active: bool


@dataclass(frozen=True)
class ChatSettings:
    chat_id: int
    mode: str = "instant"
    digest_time: str | None = None
    tz: str | None = None
    last_digest: str | None = None


@dataclass(frozen=True)
class OutboxRow:
    id: int
    chat_id: int
    kind: str
    text: str
    markup: dict | None
    status: str
    attempts: int
    next_attempt_at: float
    message_id: int | None


class AlertStore:
    """Thread-safe wrapper around one SQLite connection (the cycle runs partly in a worker thread)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives a process crash (the case we design for); only an
        # OS crash or power loss can roll back the last transactions.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work (BEGIN IMMEDIATE … COMMIT, ROLLBACK on error)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _all(self, sql: str, params: Iterable[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _run(self, sql: str, params: Iterable[object] = ()) -> int:
        with self._lock:
            return self._db.execute(sql, tuple(params)).rowcount

    # ------------------------------------------------------------------ meta / high-water mark

    def get_meta(self, key: str) -> str | None:
        rows = self._all("SELECT value FROM meta WHERE key = ?", [key])
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str, db: sqlite3.Connection | None = None) -> None:
        if db is not None:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        else:
            self._run("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])

    def high_water_mark(self) -> int | None:
        value = self.get_meta("hwm")
        return int(value) if value is not None else None

    # ------------------------------------------------------------------ subscriptions

    def subscribe(self, chat_id: int, topic: str | None, now: float | None = None) -> bool:
        """Add (or reactivate) a subscription; False if it was already active."""
        topic = normalize_topic(topic)
        now = time.time() if now is None else now
        with self.transaction() as db:
            row = db.execute("SELECT id, active FROM subscriptions WHERE chat_id = ? AND COALESCE(topic, '') = ?",
                             (chat_id, topic or "")).fetchone()
            if row and row["active"]:
                return False
            if row:
                db.execute("UPDATE subscriptions SET active = 1, created_at = ? WHERE id = ?", (now, row["id"]))
            else:
                db.execute("INSERT INTO subscriptions (chat_id, topic, created_at) VALUES (?, ?, ?)",
                           (chat_id, topic, now))
            # A chat that comes back after blocking the bot is active again everywhere.
            db.execute("UPDATE subscriptions SET active = 1 WHERE chat_id = ?", (chat_id,))
        return True

    def unsubscribe(self, chat_id: int, topic: str | None = None) -> int:
        """Remove one topic, or every subscription of the chat when topic is None; returns how many."""
        topic = normalize_topic(topic)
        with self.transaction() as db:
            if topic is None:
                return db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,)).rowcount
            return db.execute("DELETE FROM subscriptions WHERE chat_id = ? AND topic = ?", (chat_id, topic)).rowcount

    def subscriptions(self, chat_id: int | None = None, active_only: bool = True) -> list[Subscription]:
        where, params = ["1"], []
        if chat_id is not None:
            where.append("chat_id = ?")
            params.append(chat_id)
        if active_only:
            where.append("active = 1")
        rows = self._all(f"SELECT chat_id, topic, created_at, active FROM subscriptions WHERE {' AND '.join(where)} "
                         "ORDER BY chat_id, topic IS NOT NULL, topic", params)
        return [Subscription(r["chat_id"], r["topic"], r["created_at"], bool(r["active"])) for r in rows]

    def deactivate_chat(self, chat_id: int, reason: str) -> int:
        """403: the user blocked us or we were removed; stop everything queued for the chat."""
        with self.transaction() as db:
            count = db.execute("UPDATE subscriptions SET active = 0 WHERE chat_id = ?", (chat_id,)).rowcount
            db.execute("UPDATE outbox SET status = 'cancelled', last_error = ? WHERE chat_id = ? AND status = 'pending'",
                       (reason, chat_id))
        return count

    def migrate_chat(self, old: int, new: int) -> None:
        """A group became a supergroup: its id changed, its state moves with it."""
        with self.transaction() as db:
            for table in ("subscriptions", "outbox", "deliveries"):
                db.execute(f"UPDATE OR IGNORE {table} SET chat_id = ? WHERE chat_id = ?", (new, old))
            db.execute("UPDATE OR IGNORE chats SET chat_id = ? WHERE chat_id = ?", (new, old))

    # ------------------------------------------------------------------ digest settings

    def chat_settings(self, chat_id: int) -> ChatSettings:
        rows = self._all("SELECT * FROM chats WHERE chat_id = ?", [chat_id])
        if not rows:
            return ChatSettings(chat_id)
        r = rows[0]
        return ChatSettings(chat_id, r["mode"], r["digest_time"], r["tz"], r["last_digest"])

    def set_digest(self, chat_id: int, digest_time: str | None, tz: str | None, last_digest: str | None = None) -> None:
        """digest_time None → instant pushes again (anything waiting for a digest is sent now)."""
        mode = "daily" if digest_time else "instant"
        self._run("INSERT INTO chats (chat_id, mode, digest_time, tz, last_digest) VALUES (?, ?, ?, ?, ?) "
                  "ON CONFLICT(chat_id) DO UPDATE SET mode = excluded.mode, digest_time = excluded.digest_time, "
                  "tz = excluded.tz, last_digest = COALESCE(excluded.last_digest, chats.last_digest)",
                  [chat_id, mode, digest_time, tz, last_digest])

    def digest_chats(self) -> list[ChatSettings]:
        rows = self._all("SELECT * FROM chats WHERE mode = 'daily'")
        return [ChatSettings(r["chat_id"], r["mode"], r["digest_time"], r["tz"], r["last_digest"]) for r in rows]

    def waiting_for_digest(self, chat_id: int) -> list[dict]:
        """Briefs held for the chat's next digest (their rendering info), oldest first."""
        rows = self._all("SELECT info FROM deliveries WHERE chat_id = ? AND state = 'digest' ORDER BY seq", [chat_id])
        return [json.loads(r[0]) for r in rows]

    # ------------------------------------------------------------------ outbox

    @staticmethod
    def add_outbox(db: sqlite3.Connection, chat_id: int, kind: str, text: str, markup: dict | None,
                   now: float | None = None) -> int:
        now = time.time() if now is None else now
        row_id = db.execute("INSERT INTO outbox (chat_id, kind, text, markup, created_at, next_attempt_at) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            (chat_id, kind, text, json.dumps(markup) if markup else None, now, now)).lastrowid
        assert row_id is not None  # an INSERT always sets it
        return row_id

    def enqueue_message(self, chat_id: int, kind: str, text: str, markup: dict | None = None) -> int:
        with self.transaction() as db:
            return self.add_outbox(db, chat_id, kind, text, markup)

    def due(self, now: float, limit: int, exclude_chats: Iterable[int] = ()) -> list[OutboxRow]:
        """Pending rows whose time has come, oldest first, skipping chats that are busy or paused."""
        excluded = list(exclude_chats)
        marks = ",".join("?" * len(excluded))
        extra = f" AND chat_id NOT IN ({marks})" if excluded else ""
        rows = self._all("SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
                         f"{extra} ORDER BY next_attempt_at, id LIMIT ?", [now, *excluded, limit])
        return [_outbox(r) for r in rows]

    def next_due_at(self) -> float | None:
        due = self._all("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'")[0][0]
        return None if due is None else float(due)

    def outbox_row(self, row_id: int) -> OutboxRow | None:
        rows = self._all("SELECT * FROM outbox WHERE id = ?", [row_id])
        return _outbox(rows[0]) if rows else None

    def outbox_rows(self, status: str | None = None) -> list[OutboxRow]:
        rows = self._all("SELECT * FROM outbox" + (" WHERE status = ?" if status else "") + " ORDER BY id",
                         [status] if status else [])
        return [_outbox(r) for r in rows]

    def claim(self, row_id: int) -> bool:
        """pending → sending, committed before the HTTP call; False if someone else took it."""
        return self._run("UPDATE outbox SET status = 'sending', attempts = attempts + 1 "
                         "WHERE id = ? AND status = 'pending'", [row_id]) == 1

    def mark_sent(self, row_id: int, message_id: int | None) -> None:
        self._run("UPDATE outbox SET status = 'sent', message_id = ?, sent_at = ?, last_error = NULL WHERE id = ?",
                  [message_id, time.time(), row_id])

    def mark_retry(self, row_id: int, at: float, error: str, count_attempt: bool = True) -> None:
        self._run("UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?, "
                  "attempts = attempts - ? WHERE id = ?", [at, error[:500], 0 if count_attempt else 1, row_id])

    def mark_failed(self, row_id: int, error: str) -> None:
        self._run("UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?", [error[:500], row_id])

    def recover_sending(self) -> list[int]:
        """At start-up: rows left in 'sending' by a crash are ambiguous; they are sent again (see outbox.py)."""
        with self.transaction() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM outbox WHERE status = 'sending'")]
            db.execute("UPDATE outbox SET status = 'pending', last_error = 'resent after crash (possible duplicate)' "
                       "WHERE status = 'sending'")
        return ids

    def audience(self, article_ids: Sequence[str]) -> int:
        """Chats that briefs are queued for, now or in their digest."""
        marks = ",".join("?" * len(article_ids))
        return int(self._all(f"SELECT COUNT(DISTINCT chat_id) FROM deliveries WHERE state != 'withdrawn' "
                             f"AND article_id IN ({marks})", article_ids)[0][0])

    def withdraw(self, article_ids: Sequence[str], rerender: Rerender, reason: str = "brief removed") -> int:
        """Removed briefs: they leave every message not yet sent and every digest; how many deliveries.

        A message left without briefs is cancelled; a burst or digest that still holds others is
        re-rendered from what is left (`rerender(kind, infos)` → text, markup).
        """
        marks = ",".join("?" * len(article_ids))
        with self.transaction() as db:
            rows = db.execute(
                f"SELECT DISTINCT o.id, o.kind FROM outbox o JOIN deliveries d ON d.outbox_id = o.id "
                f"WHERE o.status = 'pending' AND d.article_id IN ({marks})", tuple(article_ids)).fetchall()
            held = db.execute(f"UPDATE deliveries SET state = 'withdrawn' WHERE article_id IN ({marks}) AND "
                              f"(state = 'digest' OR outbox_id IN ({','.join('?' * len(rows))}))",
                              (*article_ids, *(r[0] for r in rows))).rowcount
            for row_id, kind in rows:
                left = [json.loads(r[0]) for r in db.execute(
                    "SELECT info FROM deliveries WHERE outbox_id = ? AND state = 'queued' ORDER BY seq", (row_id,))]
                if not left:
                    db.execute("UPDATE outbox SET status = 'cancelled', last_error = ? WHERE id = ?", (reason, row_id))
                    continue
                text, markup = rerender(kind, left)
                db.execute("UPDATE outbox SET text = ?, markup = ? WHERE id = ?",
                           (text, json.dumps(markup) if markup else None, row_id))
            db.execute(f"DELETE FROM buttons WHERE article_id IN ({marks})", tuple(article_ids))
        return held

    def counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self._all("SELECT status, COUNT(*) FROM outbox GROUP BY status")}

    # ------------------------------------------------------------------ near-duplicates and buttons

    def recent_alerted(self, limit: int = 500) -> list[tuple[str, str, np.ndarray | None]]:
        rows = self._all("SELECT article_id, title_key, vector FROM alerted WHERE duplicate_of IS NULL "
                         "ORDER BY seq DESC LIMIT ?", [limit])
        return [(r[0], r[1], np.frombuffer(r[2], dtype=np.float32) if r[2] else None) for r in rows]

    def button_article(self, short: str) -> tuple[str, str] | None:
        """(article_id, title) behind an "Ask about this" button."""
        rows = self._all("SELECT article_id, title FROM buttons WHERE short = ?", [short])
        return (rows[0][0], rows[0][1]) if rows else None

    # ------------------------------------------------------------------ feeds

    def feed_state(self, url: str) -> FeedState:
        rows = self._all("SELECT * FROM feeds WHERE url = ?", [url])
        if not rows:
            return FeedState(url)
        r = rows[0]
        return FeedState(url, r["etag"], r["modified"], r["failures"], r["next_poll_at"], bool(r["reported"]))

    def save_feed_state(self, state: FeedState, error: str | None = None) -> None:
        self._run("INSERT OR REPLACE INTO feeds (url, etag, modified, failures, next_poll_at, reported, last_error) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)",
                  [state.url, state.etag, state.modified, state.failures, state.next_poll_at, int(state.reported), error])

    def seen_entries(self, url: str) -> set[str]:
        return {r[0] for r in self._all("SELECT entry_id FROM feed_entries WHERE url = ?", [url])}

    def mark_entries_seen(self, url: str, entry_ids: Iterable[str]) -> None:
        now = time.time()
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO feed_entries (url, entry_id, at) VALUES (?, ?, ?)",
                           [(url, e, now) for e in entry_ids])


def _outbox(r: sqlite3.Row) -> OutboxRow:
    return OutboxRow(r["id"], r["chat_id"], r["kind"], r["text"], json.loads(r["markup"]) if r["markup"] else None,
                     r["status"], r["attempts"], r["next_attempt_at"], r["message_id"])
