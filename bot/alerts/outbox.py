"""The outbox sender: drains `outbox` rows at Telegram's pace. Telegram-free — the transport is injected.

Delivery guarantee (each (brief, chat) pair at least once and at most once)
- Enqueue: the alert cycle inserts the `deliveries` ledger rows (PRIMARY KEY chat+article), the outbox
  rows and the new high-water mark in ONE SQLite transaction, so a crash either enqueues a batch
  entirely or not at all, and a brief can never be enqueued twice for a chat.
- Send: a row is moved pending → 'sending' and committed *before* the HTTP call, and → 'sent' (with
  Telegram's message_id) only after Telegram answered ok. A graceful stop (Application.stop) waits
  for every in-flight call and its commit, so stopping in the middle of a fan-out loses and
  duplicates nothing.
- Residual window (hard crash / kill -9 / power loss): a row still in 'sending' at start-up is
  ambiguous — Telegram may have accepted it just before the crash, and the Bot API offers no
  idempotency key or way to read the chat back. We choose to send it again (at-least-once wins over
  at-most-once there): losing an alert silently is worse than a rare duplicate, and the window is
  bounded — at most `max_in_flight` rows (one per chat), each for the length of one HTTP round trip
  plus one SQLite commit. Such rows are logged as "possible duplicate". A TimedOut from the HTTP
  client is the same ambiguity while running; it is retried for the same reason.

Flood control (our own pacing, not only PTB's AIORateLimiter)
- global: ≤ `global_per_sec` request starts per second (spacing 1/rate and a sliding 1 s window);
- per chat: one in flight at a time, the next ≥ `chat_interval` after the previous *answer*;
- per group (negative ids): ≤ `group_per_min` answers per sliding minute;
- 429: that chat AND the whole sender pause for retry_after (+ margin) — the Bot API does not say
  whether a 429 was per chat or global, so we assume global; the row goes back to pending without
  counting an attempt;
- 403: the chat's subscriptions are deactivated and its pending rows cancelled;
- migrated group: the chat id is rewritten and the row retried;
- 400 (bad request): permanent, logged, marked failed;
- anything else: exponential back-off (2, 4, 8 … ≤ 300 s), failed after `max_attempts`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.alerts.store import AlertStore, OutboxRow

__all__ = ["RetryLater", "ChatGone", "ChatMoved", "PermanentError", "Pacing", "OutboxSender", "SendStats"]

_LOG = logging.getLogger(__name__)


class RetryLater(Exception):
    """429 Too Many Requests: nothing may be sent (to this chat, maybe at all) for `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class ChatGone(Exception):
    """403: the user blocked the bot or the bot was removed from the group."""


class ChatMoved(Exception):
    """The group was upgraded to a supergroup with a new id."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"chat migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class PermanentError(Exception):
    """A request Telegram will never accept (400 Bad Request)."""


Transport = Callable[[OutboxRow], Awaitable[int | None]]


@dataclass
class Pacing:
    global_per_sec: float = 29.5
    global_window_count: int = 30
    global_window: float = 1.03
    chat_interval: float = 1.02
    group_per_min: int = 20
    group_window: float = 60.5
    retry_margin: float = 0.1
    max_in_flight: int = 16
    max_attempts: int = 8
    max_backoff: float = 300.0


@dataclass
class SendStats:
    sent: int = 0
    retry_after: int = 0
    blocked: int = 0
    failed: int = 0
    transient: int = 0
    first_send: float | None = None
    last_send: float | None = None
    errors: list[str] = field(default_factory=list)


class OutboxSender:
    """One long-running loop per process: `await sender.run(is_running)`; `wake()` after enqueueing."""

    def __init__(self, store: AlertStore, transport: Transport, pacing: Pacing | None = None,
                 on_chat_gone: Callable[[int, str], None] | None = None) -> None:
        self.store = store
        self.transport = transport
        self.pacing = pacing or Pacing()
        self.on_chat_gone = on_chat_gone
        self.stats = SendStats()
        self._wake = asyncio.Event()
        self._paused_until = 0.0
        self._chat_paused: dict[int, float] = {}
        self._chat_next: dict[int, float] = {}
        self._group_times: dict[int, deque[float]] = {}
        self._starts: deque[float] = deque()
        self._next_global = 0.0
        self._busy: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._recovered = False

    def wake(self) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ pacing

    def _chat_ready(self, chat_id: int, now: float) -> bool:
        if chat_id in self._busy or self._chat_paused.get(chat_id, 0.0) > now or self._chat_next.get(chat_id, 0.0) > now:
            return False
        times = self._group_times.get(chat_id)
        if times:
            while times and times[0] <= now - self.pacing.group_window:
                times.popleft()
            if len(times) >= self.pacing.group_per_min:
                return False
        return True

    def _not_ready(self, now: float) -> list[int]:
        for table in (self._chat_paused, self._chat_next):
            for chat in [c for c, t in table.items() if t <= now]:
                del table[chat]
        for chat in [c for c, d in self._group_times.items() if not d or d[0] <= now - self.pacing.group_window]:
            times = self._group_times[chat]
            while times and times[0] <= now - self.pacing.group_window:
                times.popleft()
            if not times:
                del self._group_times[chat]
        blocked = set(self._busy) | set(self._chat_paused) | set(self._chat_next)
        blocked |= {c for c, d in self._group_times.items() if len(d) >= self.pacing.group_per_min}
        return sorted(blocked)

    async def _global_slot(self, is_running: Callable[[], bool]) -> bool:
        """Sleep until one more request may start without exceeding the global rate (False: stopping)."""
        rate = self.pacing.global_per_sec
        while is_running():
            now = time.monotonic()
            window = self.pacing.global_window
            while self._starts and self._starts[0] <= now - window:
                self._starts.popleft()
            full = len(self._starts) >= self.pacing.global_window_count
            wait = max(self._next_global - now, self._paused_until - now,
                       (self._starts[0] + window - now) if full else 0.0)
            if wait <= 0:
                # Small lateness (timer overshoot, a commit) is caught up, so the sustained rate stays at
                # `rate`; the sliding window above still caps any 1.03 s at `global_window_count`.
                base = self._next_global if now - self._next_global < 1.0 / rate else now
                self._next_global = base + 1.0 / rate
                self._starts.append(now)
                return True
            await asyncio.sleep(min(wait, 0.2))
        return False

    # ------------------------------------------------------------------ main loop

    async def run(self, is_running: Callable[[], bool]) -> None:
        """Drain due rows until `is_running()` turns false, then wait for in-flight sends."""
        if not self._recovered:
            self._recovered = True
            ambiguous = self.store.recover_sending()
            if ambiguous:
                _LOG.warning("outbox: %d message(s) were in flight during a crash; sending again "
                             "(possible duplicates): %s", len(ambiguous), ambiguous[:20])
        semaphore = asyncio.Semaphore(self.pacing.max_in_flight)
        try:
            while is_running():
                now = time.monotonic()
                if self._paused_until > now:
                    await asyncio.sleep(min(self._paused_until - now, 0.2))
                    continue
                rows = self.store.due(time.time(), 64, self._not_ready(now))
                if not rows:
                    await self._idle()
                    continue
                for row in rows:
                    if not is_running() or self._paused_until > time.monotonic():
                        break
                    if not self._chat_ready(row.chat_id, time.monotonic()):
                        continue
                    if not await self._global_slot(is_running):
                        break
                    if not self._chat_ready(row.chat_id, time.monotonic()):
                        continue
                    await semaphore.acquire()
                    if not self.store.claim(row.id):
                        semaphore.release()
                        continue
                    self._busy.add(row.chat_id)
                    task = asyncio.create_task(self._send_one(row, semaphore))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        finally:
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _idle(self) -> None:
        """Nothing due: sleep until woken, the next scheduled retry, or a short poll interval."""
        self._wake.clear()
        timeout = 0.5
        nxt = self.store.next_due_at()
        if nxt is not None:
            timeout = min(timeout, max(nxt - time.time(), 0.02))
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    async def drain(self, timeout: float = 60.0) -> None:
        """Run until nothing is pending or in flight (for scripts and tests)."""
        deadline = time.monotonic() + timeout
        stop = asyncio.Event()

        def running() -> bool:
            return not stop.is_set() and time.monotonic() < deadline

        async def watch() -> None:
            while running():
                counts = self.store.counts()
                if not counts.get("pending") and not counts.get("sending") and not self._tasks:
                    stop.set()
                    return
                await asyncio.sleep(0.05)

        await asyncio.gather(self.run(running), watch())

    async def _send_one(self, row: OutboxRow, semaphore: asyncio.Semaphore) -> None:
        chat = row.chat_id
        try:
            message_id = await self.transport(row)
        except RetryLater as exc:
            self.stats.retry_after += 1
            until = time.monotonic() + exc.seconds + self.pacing.retry_margin
            self._chat_paused[chat] = max(self._chat_paused.get(chat, 0.0), until)
            self._paused_until = max(self._paused_until, until)
            self.store.mark_retry(row.id, time.time() + exc.seconds + self.pacing.retry_margin,
                                  f"429 retry after {exc.seconds}s", count_attempt=False)
            _LOG.info("outbox: 429 for chat %s, pausing %.1fs", chat, exc.seconds)
        except ChatGone as exc:
            self.stats.blocked += 1
            self.store.mark_failed(row.id, f"403 {exc}")
            self.store.deactivate_chat(chat, f"403 {exc}")
            _LOG.info("outbox: chat %s is gone (%s); subscriptions deactivated", chat, exc)
            if self.on_chat_gone:
                self.on_chat_gone(chat, str(exc))
        except ChatMoved as exc:
            self.store.migrate_chat(chat, exc.new_chat_id)
            self.store.mark_retry(row.id, time.time(), str(exc), count_attempt=False)
        except PermanentError as exc:
            self.stats.failed += 1
            self.store.mark_failed(row.id, str(exc))
            _LOG.error("outbox: message %s to chat %s rejected: %s", row.id, chat, exc)
        except asyncio.CancelledError:
            self.store.mark_retry(row.id, time.time(), "cancelled", count_attempt=False)
            raise
        except Exception as exc:  # network errors, 5xx, timeouts: back off and retry
            self.stats.transient += 1
            attempts = row.attempts + 1
            self.stats.errors.append(f"{type(exc).__name__}: {exc}")
            if attempts >= self.pacing.max_attempts:
                self.stats.failed += 1
                self.store.mark_failed(row.id, f"gave up after {attempts} attempts: {exc!r}")
                _LOG.error("outbox: message %s to chat %s failed %d times: %r", row.id, chat, attempts, exc)
            else:
                delay = min(2.0 ** attempts, self.pacing.max_backoff) * random.uniform(0.8, 1.2)
                self.store.mark_retry(row.id, time.time() + delay, f"{type(exc).__name__}: {exc}")
                _LOG.warning("outbox: message %s to chat %s failed (%r); retry in %.1fs", row.id, chat, exc, delay)
        else:
            self.store.mark_sent(row.id, message_id)
            self.stats.sent += 1
            now = time.monotonic()
            self.stats.first_send = self.stats.first_send or now
            self.stats.last_send = now
        finally:
            done = time.monotonic()
            self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), done + self.pacing.chat_interval)
            if chat < 0:
                self._group_times.setdefault(chat, deque()).append(done)
            self._busy.discard(chat)
            semaphore.release()
            self._wake.set()
