"""Timelines in Telegram end to end (issue 19): /timeline, the Timeline button, inline "timeline X", and
"more" after a timeline. Real `Application` against tests.fakebotapi, hash-embedder engine over
data/articles (the two sample briefs and the demo's example brief)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from index.engine import Engine
from tests.conftest import ARTICLES, ask_bot
from tests.fakebotapi import FakeBotApi, parse_telegram_html
from tests.test_bot_private import buttons, press, shown

SUBJECT = "China rare earth exports"  # both dated briefs (23 Sep and 14 Oct 2025) are about it


async def test_timeline_command_renders_dated_lines_under_the_brief(bot_api: FakeBotApi, start_bot: Any,
                                                                    hash_engine_factory: Callable[..., Engine]) -> None:
    async with start_bot(hash_engine_factory([ARTICLES])):
        rec = await ask_bot(bot_api, 2001, f"/timeline {SUBJECT}")
        menu = [c["command"] for c in next(iter(bot_api._commands.values()))]
        help_text = shown(await ask_bot(bot_api, 2001, "/help"))
    parse_telegram_html(rec.params["text"])
    text = shown(rec)  # accepted by the fake Bot API's strict HTML parser
    assert text.index("Timeline · " + SUBJECT) > 0  # the brief stays on top
    lines = [line for line in text.split("\n") if " · " in line and line[:2].strip().isdigit()]
    assert [line.split(" · ")[0] for line in lines] == ["23 September 2025", "14 October 2025"]
    assert all(line.rstrip().endswith("]") for line in lines)
    assert "Timeline" in [b["text"] for b in buttons(rec)]
    assert "timeline" in menu and "/timeline" in help_text


async def test_timeline_button_and_more_after_a_timeline(bot_api: FakeBotApi, start_bot: Any,
                                                         hash_engine_factory: Callable[..., Engine]) -> None:
    async with start_bot(hash_engine_factory([ARTICLES])):
        rec = await ask_bot(bot_api, 2002, "Is China still holding back rare earth exports?")
        data = {b["text"]: b["callback_data"] for b in buttons(rec)}
        assert "Timeline" in data, data
        answered = await press(bot_api, 2002, rec.result["message_id"], data["Timeline"])
        reply = await bot_api.wait_for_request("sendMessage", lambda r: r.params.get("chat_id") == 2002)
        more = shown(await ask_bot(bot_api, 2002, "more"))
    assert answered.ok
    text = shown(reply)
    assert text.startswith("Timeline · ") and "23 September 2025 · " in text and "14 October 2025 · " in text
    assert reply.params["reply_parameters"]["message_id"] == rec.result["message_id"]
    # The conversation continues from the timeline: both its briefs were shown, so "more" means passages.
    assert more.startswith("Searching for: ") or more.startswith("No more relevant passages")
    assert "Timeline · " not in more


async def test_inline_timeline_query(bot_api: FakeBotApi, start_bot: Any,
                                     hash_engine_factory: Callable[..., Engine]) -> None:
    async with start_bot(hash_engine_factory([ARTICLES])):
        bot_api.inline_query(f"timeline {SUBJECT}", user_id=2003)
        inline = await bot_api.wait_for_request("answerInlineQuery")
    assert inline.ok
    first = inline.params["results"][0]
    assert first["id"] == "timeline" and first["title"] == f"Timeline: {SUBJECT}"
    parse_telegram_html(first["input_message_content"]["message_text"])
