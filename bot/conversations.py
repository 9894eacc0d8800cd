"""Conversations persisted per chat (per user inside groups), so follow-ups survive restarts."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from index.conversation import Conversation

__all__ = ["ConversationStore", "conversation_key", "MAX_CONVERSATIONS"]

# Bounded memory and disk: the least recently used conversations are forgotten first.
MAX_CONVERSATIONS = 10_000


def conversation_key(chat_id: int, user_id: int | None, chat_type: str) -> str:
    """Private chats share one thread; in groups each member has their own."""
    if chat_type == "private" or user_id is None:
        return str(chat_id)
    return f"{chat_id}:{user_id}"


class ConversationStore:
    """SQLite table of JSON conversations; safe to call from several threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS conversations (key TEXT PRIMARY KEY, turns TEXT NOT NULL, "
                         "updated REAL NOT NULL)")

    def load(self, key: str) -> Conversation:
        with self._lock:
            row = self._db.execute("SELECT turns FROM conversations WHERE key = ?", (key,)).fetchone()
        return Conversation.from_json(json.loads(row[0])) if row else Conversation()

    def save(self, key: str, conversation: Conversation) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO conversations (key, turns, updated) VALUES (?, ?, ?)",
                             (key, json.dumps(conversation.to_json()), time.time()))
            self._db.execute("DELETE FROM conversations WHERE key NOT IN "
                             "(SELECT key FROM conversations ORDER BY updated DESC LIMIT ?)", (MAX_CONVERSATIONS,))

    def reset(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM conversations WHERE key = ?", (key,))

    def close(self) -> None:
        self._db.close()
