"""The interface between the capability packages: what sources/ need from alerts/, as Protocols.

sources/ never imports alerts/: it types what it needs with the Protocols below, and app.py (the wiring)
hands it the concrete objects, which satisfy them structurally —
- `BriefsPublished`: publishing (bot/sources/publish.py) tells the alerts "these briefs were published /
  removed"; implemented by `bot.alerts.service.AlertService`.
- `FeedStore` (with its record `FeedState`): where the feed poller (bot/sources/feeds.py) keeps each feed's
  conditional-GET state, back-off and the entries already seen; implemented by `bot.alerts.store.AlertStore`
  (the same SQLite file as the alerts, so a feed entry and its alert are one state).
The other direction, alerts/ driving the intake (poll feeds, ingest the inbox), goes through one module,
bot/sources/intake.py. A leaf: this module imports nothing from bot/ or index/.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["BriefsPublished", "FeedState", "FeedStore"]


class BriefsPublished(Protocol):
    """The alerts as publishing sees them (bot.alerts.service.AlertService)."""

    async def announce(self, article_ids: Sequence[str]) -> int:
        """Queue alerts for new briefs now; how many chats get one."""
        ...

    async def withdraw(self, article_ids: Sequence[str]) -> int:
        """Cancel alerts not yet sent for removed briefs; how many."""
        ...


@dataclass(frozen=True)
class FeedState:
    url: str
    etag: str | None = None
    modified: str | None = None
    failures: int = 0
    next_poll_at: float = 0.0
    reported: bool = False


class FeedStore(Protocol):
    """Where the feed poller keeps its state (bot.alerts.store.AlertStore)."""

    def feed_state(self, url: str) -> FeedState: ...

    def save_feed_state(self, state: FeedState, error: str | None = None) -> None: ...

    def seen_entries(self, url: str) -> set[str]: ...

    def mark_entries_seen(self, url: str, entry_ids: Iterable[str]) -> None: ...
