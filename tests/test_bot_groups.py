"""Groups (mentions, replies, per-user conversations), inline mode, the allow-list and admin commands."""

from __future__ import annotations

from typing import Any

from bot.access import REFUSAL
from bot.chat.handlers import ADMIN_ONLY
from tests.conftest import ask_bot
from tests.fakebotapi import FakeBotApi
from tests.test_bot_private import GENEVA, RARE, press, shown

GROUP = -1001234567890
BOT = "@briefbot_test_bot"


async def test_group_answers_only_when_mentioned_or_replied_to(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot():
        bot_api.user_message(GROUP, GENEVA, user_id=11)  # not addressed: ignored
        bot_api.user_message(GROUP, "/frobnicate", user_id=11)  # may be another bot's command: ignored
        mention = bot_api.user_message(GROUP, f"{BOT} {GENEVA}", user_id=11)["message"]
        rec = await bot_api.wait_for_request("sendMessage", lambda r: r.params["chat_id"] == GROUP)
        assert rec.params["reply_parameters"]["message_id"] == mention["message_id"]
        assert "[1]" in shown(rec) and BOT not in shown(rec)
        reply = await ask_bot(bot_api, GROUP, "and terbium?", user_id=11, reply_to_message_id=rec.result["message_id"])
        assert shown(reply).startswith("Searching for: What happened with terbium?")
        unknown = await ask_bot(bot_api, GROUP, f"/frobnicate{BOT}", user_id=11)
        assert shown(unknown).startswith("Unknown command /frobnicate")
        empty = await ask_bot(bot_api, GROUP, BOT, user_id=11)
        assert shown(empty).startswith("Yes? Ask me about the briefs")
    assert len(bot_api.sent_messages(GROUP)) == 4


async def test_group_conversations_are_per_user_and_ask_command_works(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot():
        await ask_bot(bot_api, GROUP, f"/ask {RARE}", user_id=11)
        other = shown(await ask_bot(bot_api, GROUP, f"/ask{BOT} more", user_id=22))
        same = shown(await ask_bot(bot_api, GROUP, f"{BOT} more", user_id=11))
    assert not other.startswith("Searching for")  # user 22 has no history: "more" is just a (poor) question
    assert same.startswith(f"Searching for: {RARE}")


async def test_inline_query_offers_top_passages_with_citations(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot():
        bot_api.inline_query(GENEVA, user_id=1001)
        rec = await bot_api.wait_for_request("answerInlineQuery")
        bot_api.inline_query("", user_id=1001)
        empty = await bot_api.wait_for_request("answerInlineQuery")
        bot_api.inline_query("zyxxyq qqwvvz", user_id=1001)
        nothing = await bot_api.wait_for_request("answerInlineQuery")
    assert rec.ok and empty.ok and nothing.ok  # the fake validates every result's HTML and length
    results = rec.params["results"]
    assert 1 <= len(results) <= 5 and rec.params["is_personal"] is True and rec.params["cache_time"] <= 30
    for result in results:
        content = result["input_message_content"]
        assert result["type"] == "article" and content["parse_mode"] == "HTML"
        assert "<b>" in content["message_text"] and "Rare Earth Exchanges" in content["message_text"]
    assert empty.params["results"] == []
    assert [r["title"] for r in nothing.params["results"]] == ["Nothing relevant in the briefs"]


async def test_allow_list_refuses_other_chats_without_data(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot(BRIEFBOT_ALLOWED_CHAT_IDS="1001"):
        allowed = await ask_bot(bot_api, 1001, GENEVA)
        refused = await ask_bot(bot_api, 2002, GENEVA)
        data = allowed.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        button = await press(bot_api, 2002, 1, data)
        bot_api.inline_query(GENEVA, user_id=2002)
        inline = await bot_api.wait_for_request("answerInlineQuery")
        bot_api.user_message(-100999, GENEVA, user_id=2002)  # unaddressed group chatter: no refusal spam
        group = await ask_bot(bot_api, -100999, f"/ask {GENEVA}", user_id=2002)
    assert "[1]" in shown(allowed)
    assert shown(refused) == REFUSAL and shown(group) == REFUSAL
    assert button.params["text"] == REFUSAL
    assert inline.params["results"] == [] and inline.params["button"]["start_parameter"] == "private"
    assert len(bot_api.sent_messages(-100999)) == 1 and len(bot_api.sent_messages(2002)) == 1


async def test_stats_is_admin_only(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot(BRIEFBOT_ADMIN_IDS="7, 8"):
        refused = shown(await ask_bot(bot_api, 1001, "/stats"))
        admin = shown(await ask_bot(bot_api, 7, "/stats"))
    assert refused == ADMIN_ONLY
    assert admin.startswith("Bot status\nUptime: ") and "Briefs: 2" in admin and "Passages: 12" in admin


async def test_alert_commands_and_buttons_are_left_to_the_alerts_module(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot():
        reply = shown(await ask_bot(bot_api, 1001, "/subscriptions"))
        answered = await press(bot_api, 1001, 1, "alert:ask:nonexistent")
        await ask_bot(bot_api, 1001, "/help")  # a later message: everything before it has been handled
    assert not reply.startswith("Unknown command")
    assert answered.params.get("text") != "This answer has expired, ask again."
    menu = [c["command"] for c in next(iter(bot_api._commands.values()))]
    assert {"ask", "latest", "sources", "reset", "help", "start", "subscribe", "unsubscribe"} <= set(menu)
    assert len(bot_api.sent_messages(1001)) == 2
