"""The intake, as the alerts drive it: the one module of sources/ another capability may import.

The alert cycle (bot/alerts/service.py) polls the configured feeds into the inbox (`FeedPoller`) and ingests
the inbox (`process_inbox`) before it matches new briefs. Nothing else of sources/ is imported from outside
it except by the wiring (bot/app.py); the other direction, sources/ → alerts/, goes through bot/events.py.
"""

from __future__ import annotations

from bot.sources.feeds import FeedPoller, FeedResult
from bot.sources.inbox import InboxResult, process_inbox

__all__ = ["FeedPoller", "FeedResult", "InboxResult", "process_inbox"]
