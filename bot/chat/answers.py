"""What the buttons under an answer need, persisted so they keep working after a restart.

Each sent answer gets a short random id (8 URL-safe characters) that goes into callback_data
("more:<id>", "src:<id>", "tl:<id>", "ctx:<id>:<n>", all far below Telegram's 64 bytes). The store keeps the
question, the resolved query, the engine's Turn (for "More" and for replies to an old answer), the
citations and the chunk id shown for each cited brief, plus which bot messages carried the answer.
It is capped: the oldest answers are forgotten first and their buttons say they expired.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from index.conversation import Conversation, Turn
from index.records import Answer, Citation

__all__ = ["StoredAnswer", "AnswerStore", "MAX_ANSWERS"]

MAX_ANSWERS = 20_000


@dataclass(frozen=True)
class StoredAnswer:
    """An answer as its buttons need it."""

    id: str
    chat_id: int
    question: str
    resolved_query: str
    turn: Turn
    citations: tuple[Citation, ...]
    chunk_ids: tuple[int, ...]  # per citation: the first passage shown from that brief
    offset: int
    has_more: bool
    story: str | None = None  # a subject with ≥ 2 dated briefs: the Timeline button
    # Nothing answered: `citations` are the closest briefs the refusal offers, each with a button to open it.
    refused: bool = False


    @classmethod
    def of(cls, answer_id: str, chat_id: int, answer: Answer, turn: Turn) -> StoredAnswer:
        """Capture an engine answer and its turn."""
        if answer.no_answer:
            return cls(answer_id, chat_id, answer.query, answer.resolved_query, turn,
                       tuple(h.citation for h in answer.closest), tuple(h.chunk_id for h in answer.closest),
                       answer.offset, has_more=False, refused=True)
        first: dict[str, int] = {}
        for passage in answer.passages:
            first.setdefault(passage.hit.citation.article_id, passage.hit.chunk_id)
        for entry in answer.timeline.visible if answer.timeline else ():
            first.setdefault(entry.citation.article_id, entry.chunk_id)
        # "More" also shows the timeline's briefs left out ("and N more briefs").
        more = len(answer.passages) >= turn.k or bool(answer.timeline and answer.timeline.remaining)
        return cls(answer_id, chat_id, answer.query, answer.resolved_query, turn, answer.citations,
                   tuple(first.get(c.article_id, -1) for c in answer.citations), answer.offset, more, answer.story)

    def conversation(self, base: Conversation | None = None) -> Conversation:
        """A conversation whose last turn is this answer, so follow-ups resolve against it."""
        conversation = Conversation(list(base.turns) if base else [])
        conversation.add(self.turn)
        return conversation

    def to_json(self) -> dict[str, object]:
        return {"question": self.question, "resolved_query": self.resolved_query, "turn": asdict(self.turn),
                "citations": [c.to_json() for c in self.citations], "chunk_ids": list(self.chunk_ids),
                "offset": self.offset, "has_more": self.has_more, "story": self.story, "refused": self.refused}

    @classmethod
    def from_json(cls, answer_id: str, chat_id: int, data: dict[str, Any]) -> StoredAnswer:
        citations = tuple(_citation(c) for c in data["citations"])
        return cls(answer_id, chat_id, str(data["question"]), str(data["resolved_query"]),
                   Conversation.from_json([data["turn"]]).turns[0],
                   citations, tuple(int(i) for i in data["chunk_ids"]),
                   int(data["offset"]), bool(data["has_more"]), data.get("story"), bool(data.get("refused", False)))


def _citation(raw: dict[str, str | None]) -> Citation:
    published = raw.get("published_at")
    return Citation(str(raw["article_id"]), str(raw["title"]), raw.get("source"), raw.get("author"),
                    date.fromisoformat(published) if published else None, raw.get("url"), raw.get("path"))


class AnswerStore:
    """SQLite table of answers keyed by short id, plus bot message → answer links; thread-safe."""

    def __init__(self, path: Path, max_answers: int = MAX_ANSWERS) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_answers = max_answers
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS answers (id TEXT PRIMARY KEY, chat_id INTEGER NOT NULL, "
                         "created REAL NOT NULL, payload TEXT NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS messages (chat_id INTEGER NOT NULL, message_id INTEGER NOT NULL, "
                         "answer_id TEXT NOT NULL, PRIMARY KEY (chat_id, message_id))")
        self._db.execute("CREATE INDEX IF NOT EXISTS answers_created ON answers (created)")

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(6)

    def put(self, stored: StoredAnswer) -> None:
        """Save an answer; beyond the cap the oldest answers (and their message links) go."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO answers (id, chat_id, created, payload) VALUES (?, ?, ?, ?)",
                             (stored.id, stored.chat_id, time.time(), json.dumps(stored.to_json())))
            excess = self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] - self.max_answers
            if excess > 0:
                self._db.execute("DELETE FROM answers WHERE id IN (SELECT id FROM answers ORDER BY created LIMIT ?)",
                                 (excess,))
                self._db.execute("DELETE FROM messages WHERE answer_id NOT IN (SELECT id FROM answers)")

    def get(self, answer_id: str) -> StoredAnswer | None:
        """The answer, or None when unknown, expired or unreadable."""
        with self._lock:
            row = self._db.execute("SELECT chat_id, payload FROM answers WHERE id = ?", (answer_id,)).fetchone()
        if row is None:
            return None
        try:
            return StoredAnswer.from_json(answer_id, row[0], json.loads(row[1]))
        except (ValueError, KeyError, TypeError):
            return None

    def link_message(self, chat_id: int, message_id: int, answer_id: str) -> None:
        """Remember that a bot message carries this answer (for replies to it)."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO messages (chat_id, message_id, answer_id) VALUES (?, ?, ?)",
                             (chat_id, message_id, answer_id))

    def for_message(self, chat_id: int, message_id: int) -> StoredAnswer | None:
        """The answer a bot message carried, if still stored."""
        with self._lock:
            row = self._db.execute("SELECT answer_id FROM messages WHERE chat_id = ? AND message_id = ?",
                                   (chat_id, message_id)).fetchone()
        return self.get(row[0]) if row else None

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
