"""Push alerts end to end: the real PTB Application against the fake Bot API, with a fast engine."""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.alerts.handlers import install
from bot.alerts.render import CALLBACK_PREFIX
from bot.alerts.service import AlertService
from bot.config import BotConfig
from bot.conversations import ConversationStore, conversation_key
from bot.alerts.outbox import Pacing
from index.embed import HashEmbedder
from index.engine import Engine
from tests.conftest import SAMPLE_TODAY
from tests.fakebotapi import FakeBotApi, parse_telegram_html

LABELLED = Path(__file__).parent / "fixtures" / "alerts" / "labelled_briefs.jsonl"
TOKEN = "123456789:" + "A" * 35
FAST = Pacing(global_per_sec=29.5, chat_interval=1.02)


def records() -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, LABELLED.read_text().splitlines())}


def make_config(data_dir: Path, **extra: object) -> BotConfig:
    values = {"TELEGRAM_BOT_TOKEN": TOKEN, "BRIEFBOT_DATA_DIR": str(data_dir), "BRIEFBOT_POLL_SECONDS": 0.2}
    values.update({k: v for k, v in extra.items()})
    return BotConfig.load(**values)


@asynccontextmanager
async def running_bot(fake: FakeBotApi, engine: Engine, config: BotConfig, pacing: Pacing = FAST,
                      polling: bool = False) -> AsyncIterator[tuple[object, AlertService]]:
    app = fake.application_builder().build()
    service = install(app, engine, config, pacing=pacing, inbox_settle_seconds=0, digest_tick=0.2)
    async with app:
        await app.start()
        if polling:
            await app.updater.start_polling(timeout=1, poll_interval=0)
        try:
            yield app, service
        finally:
            if polling:
                await app.updater.stop()
            await app.stop()


def drop(inbox: Path, name: str, record: dict) -> Path:
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / name
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def alerts_to(fake: FakeBotApi, chat_id: int) -> list[dict]:
    return [m for m in fake.sent_messages(chat_id) if m["text"].startswith(("🔔", "🗞"))]


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def settle(service: AlertService, cycles: int = 3) -> None:
    """Let a few full cycles and the sender run (nothing more should happen afterwards)."""
    for _ in range(cycles):
        await service.cycle()
        await asyncio.sleep(0.1)
    await until(lambda: not service.store.counts().get("pending") and not service.store.counts().get("sending"), 15)


@pytest.fixture
def engine(hash_engine_factory: Callable[..., Engine]) -> Engine:
    return hash_engine_factory()


# --------------------------------------------------------------------------- delivery


async def test_inbox_brief_reaches_subscribers_once_on_topic(fake_bot_api: FakeBotApi, engine: Engine,
                                                             tmp_path: Path) -> None:
    fake = fake_bot_api
    config = make_config(engine.data_dir)
    async with running_bot(fake, engine, config, polling=True) as (app, service):
        store = service.store
        store.subscribe(101, None)
        store.subscribe(102, "terbium")
        store.subscribe(103, "lithium brine in Chile")
        store.subscribe(104, None)
        fake.block_chat(104)
        await asyncio.sleep(1.1)  # subscriptions made strictly before the brief arrives
        brief = records()["lab-terbium"]
        drop(config.inbox, "terbium.json", brief)
        await until(lambda: alerts_to(fake, 101) and alerts_to(fake, 102))
        await settle(service)
        assert len(alerts_to(fake, 101)) == 1 and len(alerts_to(fake, 102)) == 1
        assert alerts_to(fake, 103) == []  # off-topic subscriber untouched
        message = alerts_to(fake, 101)[0]
        assert brief["title"] in message["text"] and "Rare Earth Exchanges" in message["text"]
        assert "24 Sep 2025" in message["text"]
        assert message["reply_markup"]["inline_keyboard"][0][0]["text"] == "Ask about this"
        # blocked: 403 → deactivated, and never retried
        assert store.subscriptions(104) == [] and len(store.subscriptions(104, active_only=False)) == 1
        attempts_104 = [r for r in fake.requests if r.method == "sendMessage" and r.params.get("chat_id") == 104]
        assert len(attempts_104) == 1
        # the file moved into the article store
        assert not (config.inbox / "terbium.json").exists()
        assert (engine.data_dir / "articles" / "terbium.json").exists()

        # Re-ingesting the same brief, and a near-duplicate from another source: nobody alerted again.
        drop(config.inbox, "terbium-again.json", brief)
        near = dict(brief, id="elsewhere-1", source="Mining.com",
                    body=brief["body"].replace("18 percent", "18%") + " Prices were little changed on Friday.")
        drop(config.inbox, "terbium-elsewhere.json", near)
        await settle(service)
        assert len(alerts_to(fake, 101)) == 1 and len(alerts_to(fake, 102)) == 1
        assert (config.inbox / "duplicates" / "terbium-again.json").exists()

        # Bad files (broken JSON, a damaged PDF) go to rejected/ with a reason; a good file in the same batch still lands.
        (config.inbox / "broken.json").write_text("{not json", encoding="utf-8")
        (config.inbox / "scan.pdf").write_bytes(b"%PDF-1.4 binary")
        drop(config.inbox, "lynas.json", records()["lab-lynas"])
        await until(lambda: len(alerts_to(fake, 101)) == 2)
        await settle(service)
        rejected = config.inbox / "rejected"
        assert "invalid JSON" in (rejected / "broken.json.reason").read_text()
        assert "damaged PDF" in (rejected / "scan.pdf.reason").read_text()
        assert not (config.inbox / "broken.json").exists() and not (config.inbox / "scan.pdf").exists()
        assert len(alerts_to(fake, 102)) == 1  # "terbium" does not get the Lynas brief

        # "Ask about this" → the chat's conversation refers to that brief
        first = alerts_to(fake, 101)[0]
        data = first["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        assert data.startswith(CALLBACK_PREFIX) and len(data.encode()) <= 64
        fake.callback_query(101, first["message_id"], data, user_id=101)
        reply = await fake.wait_for_request("sendMessage", lambda r: "Ask me anything" in str(r.params.get("text")))
        assert brief["title"] in reply.result["text"]
        await fake.wait_for_request("answerCallbackQuery")
    conversation = ConversationStore(engine.data_dir / "state" / "conversations.sqlite").load(
        conversation_key(101, 101, "private"))
    assert conversation.last is not None and conversation.last.article_ids == ("lab-terbium",)
    assert fake.requests_during_retry_after == 0


async def test_429_storm_and_flood_limits(fake_bot_api: FakeBotApi, engine: Engine) -> None:
    fake = fake_bot_api
    fake.set_flood_limits(global_per_sec=30, per_chat_per_sec=1, per_group_per_min=20)
    config = make_config(engine.data_dir)
    chats = list(range(2001, 2041)) + [-1002001, -1002002]
    async with running_bot(fake, engine, config) as (app, service):
        for chat in chats:
            service.store.subscribe(chat, None)
        await asyncio.sleep(1.1)
        fake.fail_next("sendMessage", 429, retry_after=1, count=4)
        drop(config.inbox, "a.json", records()["lab-terbium"])
        drop(config.inbox, "b.json", records()["lab-dysprosium"])
        await until(lambda: all(len(alerts_to(fake, c)) == 2 for c in chats), 30)
        await settle(service, 1)
    for chat in chats:
        assert len(alerts_to(fake, chat)) == 2, chat
    assert fake.requests_during_retry_after == 0
    # the storm did not lose anything and every message went out once
    sends = [r for r in fake.requests if r.method == "sendMessage" and r.ok]
    assert len(sends) == 2 * len(chats)
    retried = [r for r in fake.requests if r.method == "sendMessage" and r.status == 429]
    # the injected ones; pacing keeps the flood limiter quiet (a rare extra 429 from scheduling jitter
    # on a loaded machine is honoured the same way, so it is tolerated here)
    assert 4 <= len(retried) <= 5
    assert service.sender is not None and service.sender.stats.retry_after == len(retried)
    # per-chat spacing held: two messages to one chat are ≥ 1 s apart
    times = [r.timestamp for r in sends if r.params["chat_id"] == 2001]
    assert times[1] - times[0] >= 1.0


async def test_restart_in_the_middle_of_a_fanout(fake_bot_api: FakeBotApi, engine: Engine) -> None:
    fake = fake_bot_api
    config = make_config(engine.data_dir)
    chats = list(range(3001, 3031))
    slow = Pacing(global_per_sec=10.0, global_window_count=10)
    async with running_bot(fake, engine, config, pacing=slow) as (app, service):
        for chat in chats:
            service.store.subscribe(chat, "terbium")
        await asyncio.sleep(1.1)
        drop(config.inbox, "terbium.json", records()["lab-terbium"])
        await until(lambda: len(fake.sent_messages()) >= 8)
    # stopped mid fan-out: in-flight sends finished and were recorded, the rest is still pending
    sent_before = len(fake.sent_messages())
    counts = service.store.counts()
    assert 8 <= sent_before < len(chats) and counts["sent"] == sent_before and counts.get("sending", 0) == 0
    service.store.close()
    engine2 = Engine(engine.data_dir, embedder=HashEmbedder(), today=lambda: SAMPLE_TODAY)
    async with running_bot(fake, engine2, config) as (app, service2):
        await until(lambda: len(fake.sent_messages()) == len(chats), 15)
        await settle(service2, 2)
    per_chat = Counter(m["chat"]["id"] for m in fake.sent_messages())
    assert per_chat == Counter({c: 1 for c in chats})  # no duplicates, no loss


async def test_crash_leaves_sending_rows_which_are_sent_again(fake_bot_api: FakeBotApi, engine: Engine) -> None:
    """The documented residual window: a row caught in 'sending' by a hard crash is re-sent (at-least-once)."""
    config = make_config(engine.data_dir)
    app = fake_bot_api.application_builder().build()
    service = install(app, engine, config, pacing=FAST, inbox_settle_seconds=0)
    row_id = service.store.enqueue_message(77, "alert", "🔔 <b>in flight at crash</b>")
    assert service.store.claim(row_id)  # 'sending' committed, then the process "died"
    async with app:
        await app.start()
        await until(lambda: service.store.outbox_row(row_id).status == "sent")
        await app.stop()
    assert len(alerts_to(fake_bot_api, 77)) == 1


# --------------------------------------------------------------------------- backlog


async def test_backlog_age_and_burst_policy(fake_bot_api: FakeBotApi, engine: Engine, tmp_path: Path) -> None:
    fake = fake_bot_api
    config = make_config(engine.data_dir)
    async with running_bot(fake, engine, config) as (app, service):
        await service.cycle()  # first start: the two sample briefs already indexed are backlog
        service.store.subscribe(501, None)
        service.store.subscribe(502, "uranium")
        await asyncio.sleep(1.1)
        # an operator runs `briefbot ingest` with a batch while the bot runs
        batch = tmp_path / "batch.jsonl"
        lines = [dict(r, id=f"batch-{r['id']}", published_at="2025-09-25") for r in records().values()]
        lines.append({"id": "old-one", "title": "An old brief about terbium", "published_at": "2025-08-01",
                      "body": "Terbium prices moved in early August as traders returned from holidays and mills restocked."})
        batch.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
        operator = Engine(engine.data_dir, embedder=HashEmbedder(), today=lambda: SAMPLE_TODAY)
        assert len(operator.ingest([batch]).added) == 9
        await until(lambda: alerts_to(fake, 501) and alerts_to(fake, 502), 10)
        await settle(service)
    # 8 fresh briefs for 501 in one cycle → ONE collapsed message; the old brief is not in it
    assert len(alerts_to(fake, 501)) == 1
    collapsed = alerts_to(fake, 501)[0]["text"]
    assert collapsed.startswith("🗞") and "8 new briefs" in collapsed and "old brief" not in collapsed
    assert "Has U.S.-China Trade Truce" not in collapsed  # pre-existing archive never pushed
    # the topic subscriber got only the uranium brief, as a normal alert
    assert len(alerts_to(fake, 502)) == 1 and "uranium" in alerts_to(fake, 502)[0]["text"].lower()
    assert service.last_report is not None


async def test_removed_briefs_leave_a_burst_not_yet_sent_and_an_empty_one_is_cancelled(engine: Engine, tmp_path: Path) -> None:
    service = AlertService(engine, make_config(engine.data_dir), inbox_settle_seconds=0)  # no sender: rows stay pending
    service.store.subscribe(601, None)
    time.sleep(1.1)  # the subscription predates the batch
    batch = tmp_path / "batch.jsonl"
    briefs = [dict(r, id=f"batch-{r['id']}", published_at="2025-09-25") for r in records().values()][:6]
    batch.write_text("\n".join(json.dumps(b) for b in briefs), encoding="utf-8")
    assert len(engine.ingest([batch]).added) == 6
    assert service.enqueue_new_sync()["alerts"] == 6

    def burst() -> tuple[str, str]:
        [(status, text)] = service.store._all("SELECT status, text FROM outbox WHERE chat_id = 601")
        return status, text

    assert burst()[1].startswith("🗞 <b>6 new briefs</b>")
    gone = briefs[0]
    assert await service.withdraw([gone["id"]]) == 1
    status, text = burst()
    assert status == "pending" and text.startswith("🗞 <b>5 new briefs</b>") and html.escape(gone["title"]) not in text
    assert all(html.escape(b["title"]) in text for b in briefs[1:])
    assert await service.withdraw([b["id"] for b in briefs[1:]]) == 5
    assert burst()[0] == "cancelled"


async def test_daily_digest(engine: Engine, fake_bot_api: FakeBotApi) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    config = make_config(engine.data_dir)
    app = fake_bot_api.application_builder().build()
    service = install(app, engine, config, pacing=FAST, inbox_settle_seconds=0)
    service.store.subscribe(601, None, now=time.time() - 10)
    service.store.set_digest(601, "08:00", "Europe/Berlin")
    drop(config.inbox, "a.json", records()["lab-terbium"])
    drop(config.inbox, "b.json", records()["lab-lynas"])
    report = service.cycle_sync()
    assert report["held_for_digest"] == 2 and service.store.counts() == {}
    berlin = ZoneInfo("Europe/Berlin")
    assert service.due_digests_sync(datetime(2025, 9, 26, 7, 59, tzinfo=berlin)) == 0
    assert service.due_digests_sync(datetime(2025, 9, 26, 8, 0, tzinfo=berlin)) == 1
    assert service.due_digests_sync(datetime(2025, 9, 26, 23, 0, tzinfo=berlin)) == 0  # once a day
    rows = service.store.outbox_rows("pending")
    assert len(rows) == 1 and rows[0].kind == "digest" and "2 new briefs" in rows[0].text
    assert len(parse_telegram_html(rows[0].text)) <= 4096
    async with app:
        await app.start()
        await until(lambda: service.store.counts().get("sent") == 1)
        await app.stop()


# --------------------------------------------------------------------------- commands


async def test_commands_and_group_admin_check(fake_bot_api: FakeBotApi, engine: Engine) -> None:
    fake = fake_bot_api
    config = make_config(engine.data_dir)

    async def say(chat: int, text: str, user: int | None = None) -> str:
        fake.user_message(chat, text, user_id=user)
        reply = await fake.wait_for_request("sendMessage", lambda r: r.params.get("chat_id") == chat)
        assert reply.ok, reply.response
        return reply.result["text"]

    async with running_bot(fake, engine, config, polling=True) as (app, service):
        await fake.wait_for_request("deleteWebhook")
        assert "every new brief" in await say(42, "/subscribe")
        assert "Lynas" in (await say(42, "/subscribe   Lynas")).replace("lynas", "Lynas")
        assert "Already" in await say(42, "/subscribe lynas")
        listing = await say(42, "/subscriptions")
        assert "every new brief" in listing and "lynas" in listing
        assert "Unsubscribed from lynas" in await say(42, "/unsubscribe Lynas")
        assert "Daily digest at 08:00 (Europe/Berlin)" in await say(42, "/digest daily 8:00 Europe/Berlin")
        assert service.store.chat_settings(42).mode == "daily"
        assert "Usage" in await say(42, "/digest weekly")
        assert "Unknown timezone" in await say(42, "/digest daily 08:00 Mars/Olympus")
        assert "Digest off" in await say(42, "/digest off")
        assert "Unsubscribed from all alerts (1)" in await say(42, "/unsubscribe")
        # groups: members may look, only admins may change
        fake.set_chat_member(-100777, 5, "member")
        fake.set_chat_member(-100777, 6, "administrator")
        assert "Only this group's admins" in await say(-100777, "/subscribe", user=5)
        assert service.store.subscriptions(-100777) == []
        assert "Subscribed" in await say(-100777, "/subscribe@briefbot_test_bot export licences", user=6)
        assert "export licences" in await say(-100777, "/subscriptions", user=5)
    assert [s.topic for s in service.store.subscriptions(-100777)] == ["export licences"]


async def test_allow_list_refuses_other_chats(fake_bot_api: FakeBotApi, engine: Engine) -> None:
    config = make_config(engine.data_dir, BRIEFBOT_ALLOWED_CHAT_IDS="42")
    async with running_bot(fake_bot_api, engine, config, polling=True) as (app, service):
        fake_bot_api.user_message(43, "/subscribe")
        reply = await fake_bot_api.wait_for_request("sendMessage", lambda r: r.params.get("chat_id") == 43)
        assert "private" in reply.result["text"] and service.store.subscriptions(43) == []


async def test_through_build_application(hash_engine_factory: Callable[..., Engine]) -> None:
    """The bot's own Application (AIORateLimiter, its handlers) with the alerts installed by it."""
    app_module = pytest.importorskip("bot.app")
    engine = hash_engine_factory()
    async with FakeBotApi(token=TOKEN) as fake:
        config = make_config(engine.data_dir, TELEGRAM_API_BASE_URL=fake.ptb_base_url)
        app = app_module.build_application(config, engine)
        service: AlertService = app.bot_data["alerts"]
        service.inbox_settle_seconds = 0
        async with app:
            await app.start()
            await app.updater.start_polling(timeout=1, poll_interval=0)
            fake.user_message(4242, "/subscribe terbium")
            reply = await fake.wait_for_request("sendMessage", lambda r: r.params.get("chat_id") == 4242)
            assert "terbium" in reply.result["text"]
            await asyncio.sleep(1.1)
            drop(config.inbox, "terbium.json", records()["lab-terbium"])
            await until(lambda: len(alerts_to(fake, 4242)) == 1, 15)
            await settle(service, 2)
            await app.updater.stop()
            await app.stop()
        assert len(alerts_to(fake, 4242)) == 1
