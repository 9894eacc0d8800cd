"""The bot end to end in private chats: questions, follow-ups, buttons, restarts, hostile input, commands.

Real `Application` (long polling over HTTP) against tests.fakebotapi on 127.0.0.1, hash-embedder engine.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.chat.handlers import EXAMPLES, EXPIRED
from bot.chat.render import QUOTE
from bot.messages import short_title
from index.conversation import Conversation, Turn
from index.embed import Embedder
from index.engine import Engine
from index.records import Answer, BriefSentence
from tests.conftest import SAMPLE_TODAY, ask_bot, copy_index
from tests.fakebotapi import FakeBotApi, parse_telegram_html

GENEVA = "What happened with Geneva?"
GENEVA_TITLE = "Has U.S.-China Trade Truce Faltered Over Rare Earths?"
# How a reply cites the Geneva brief, in the full citation (no brief) and in the compact sources line.
GENEVA_CITED = f"[1] {short_title(GENEVA_TITLE).rstrip('…')}"
RARE = "China rare earth export licenses"  # has more than one page of passages with the hash embedder


class BriefingEngine(Engine):
    """The engine with a brief of its own: the key sentences of the first two passages, second first."""

    def ask(self, question: str, k: int = 3, conversation: Conversation | None = None,
            as_of: date | None = None) -> tuple[Answer, Turn]:
        answer, turn = super().ask(question, k, conversation, as_of)
        brief = tuple(BriefSentence(p.highlight, p.rank) for p in reversed(answer.passages[:2]))
        return dataclasses.replace(answer, brief=brief), turn


def buttons(rec: Any) -> list[dict[str, str]]:
    return [b for row in rec.params["reply_markup"]["inline_keyboard"] for b in row]


def shown(rec: Any) -> str:
    """The visible text Telegram shows for a sendMessage (HTML parsed strictly)."""
    assert rec.ok, rec.response
    return rec.result["text"]


async def press(fake: FakeBotApi, chat_id: int, message_id: int, data: str) -> Any:
    """Press an inline button; returns the answerCallbackQuery request."""
    update = fake.callback_query(chat_id, message_id, data)
    query_id = update["callback_query"]["id"]
    return await fake.wait_for_request("answerCallbackQuery", lambda r: r.params["callback_query_id"] == query_id)


async def test_question_gets_html_answer_with_citation_buttons_and_typing(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot() as app:
        app.bot_data["briefbot"].typing_delay = 0  # in production only answers slower than 0.3 s show it
        rec = await ask_bot(bot_api, 1001, GENEVA)
        typing = await bot_api.wait_for_request("sendChatAction", lambda r: r.params["chat_id"] == 1001)
    assert typing.params["action"] == "typing" and typing.timestamp < rec.timestamp
    assert rec.params["parse_mode"] == "HTML"
    parse_telegram_html(rec.params["text"])
    text = shown(rec)
    assert re.search(r"(^|\n)1\. ", text) and "Geneva" in text and GENEVA_CITED in text
    assert any(e["type"] == "bold" for e in rec.result["entities"])  # the key sentence
    labels = [b["text"] for b in buttons(rec)]
    assert labels[:2] == ["More", "Sources"] and labels[2].startswith("[1] ")
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(rec))
    assert [c["command"] for c in next(iter(bot_api._commands.values()))][:6] == ["ask", "timeline", "latest",
                                                                                  "sources", "reset", "help"]


async def test_follow_ups_more_and_swap(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot():
        first = shown(await ask_bot(bot_api, 1001, RARE))
        more = shown(await ask_bot(bot_api, 1001, "more"))
        await ask_bot(bot_api, 1001, GENEVA)
        swap = shown(await ask_bot(bot_api, 1001, "and terbium?"))
    assert more.startswith(f"Searching for: {RARE}")
    assert more.split("\n", 2)[2][:80] != first[:80]  # the next passages, not the same ones
    assert swap.startswith("Searching for: What happened with terbium?")
    assert "terbium" in swap.split("\n", 2)[2].lower()


async def test_a_question_word_alone_and_any_updates_follow_up(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot():
        await ask_bot(bot_api, 1001, GENEVA)
        why = shown(await ask_bot(bot_api, 1001, "why?"))
        updates = shown(await ask_bot(bot_api, 1001, "any updates?"))
    assert why.startswith(f"Searching for: Why? {GENEVA}") and "Geneva" in why.split("\n", 2)[2]
    assert updates.startswith("Searching for: Geneva") and "Geneva" in updates.split("\n", 2)[2]


async def test_link_please_lists_the_last_answers_sources(bot_api: FakeBotApi, start_bot: Any) -> None:
    """"link please" was searched and quoted "How to report an abusive user on Twitter" on the news corpus."""
    async with start_bot():
        first = shown(await ask_bot(bot_api, 1001, "link please"))
        answer = await ask_bot(bot_api, 1001, GENEVA)
        sources = await ask_bot(bot_api, 1001, "link?")
    assert first.startswith("Ask a question first")
    title = shown(answer).rsplit("Sources", 1)[1].split("[1] ", 1)[1][:30]
    assert shown(sources).startswith("Sources for this answer") and title in shown(sources)
    assert "reply_markup" not in sources.params  # a list, not an answer with buttons


async def test_buttons_work_and_survive_a_restart(bot_api: FakeBotApi, start_bot: Any,
                                                  hash_engine_factory: Callable[..., Engine]) -> None:
    engine = hash_engine_factory()
    async with start_bot(engine):
        rec = await ask_bot(bot_api, 1001, RARE)
    data = {b["text"]: b["callback_data"] for b in buttons(rec)}
    message_id = rec.result["message_id"]
    restarted = Engine(engine.data_dir, embedder=engine.embedder, today=engine.today)
    async with start_bot(restarted):  # a new Application and engine over the same data dir
        for label, expected in (("More", f"Searching for: {RARE}"), ("Sources", "Sources for this answer"),
                                (next(k for k in data if k.startswith("[1]")), "From [1] ")):
            answered = await press(bot_api, 1001, message_id, data[label])
            assert answered.ok and not answered.params.get("text")
            reply = await bot_api.wait_for_request("sendMessage", lambda r: r.params.get("chat_id") == 1001)
            assert shown(reply).startswith(expected), (label, shown(reply)[:200])
            assert reply.params["reply_parameters"]["message_id"] == message_id
            if label == "More":  # the continuation has buttons of its own
                assert "Sources" in [b["text"] for b in buttons(reply)]
        context = shown(reply)
    assert "rare earth" in context.lower() and len(context) > 200


async def test_stale_and_forged_callback_data_expire_politely(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot():
        rec = await ask_bot(bot_api, 1001, GENEVA)
        real_id = buttons(rec)[0]["callback_data"].split(":")[1]
        message_id = rec.result["message_id"]
        for data in ("more:doesnotexist", f"ctx:{real_id}:9", f"ctx:{real_id}:0", "src:", "garbage",
                     "more:../../etc/passwd", "ctx:x:1:2", "🙂"):
            answered = await press(bot_api, 1001, message_id, data)
            assert answered.params["text"] == EXPIRED, data
        answered = await press(bot_api, 2002, 1, f"src:{real_id}")  # another chat cannot use this answer
        assert answered.params["text"] == EXPIRED
    assert len(bot_api.sent_messages(1001)) == 1 and not bot_api.sent_messages(2002)


async def test_reply_to_an_old_answer_follows_up_on_that_answer(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot() as app:
        first = await ask_bot(bot_api, 1001, RARE)
        await ask_bot(bot_api, 1001, GENEVA)
        more = shown(await ask_bot(bot_api, 1001, "more", reply_to_message_id=first.result["message_id"]))
        last = app.bot_data["briefbot"].conversations.load("1001").last  # the chat continues from there
    assert more.startswith(f"Searching for: {RARE}")
    assert last.resolved_query == RARE and last.offset == 3


async def test_conversation_persists_across_restart_and_reset_forgets(bot_api: FakeBotApi, start_bot: Any,
                                                                      hash_engine_factory: Callable[..., Engine]) -> None:
    engine = hash_engine_factory()
    async with start_bot(engine):
        await ask_bot(bot_api, 1001, RARE)
    async with start_bot(Engine(engine.data_dir, embedder=engine.embedder, today=engine.today)):
        assert shown(await ask_bot(bot_api, 1001, "more")).startswith(f"Searching for: {RARE}")
        assert "forgot" in shown(await ask_bot(bot_api, 1001, "/reset"))
        after = shown(await ask_bot(bot_api, 1001, "and terbium?"))
    assert "Searching for: What happened with terbium" not in after


async def test_hostile_markup_and_emoji_never_break_html(bot_api: FakeBotApi, start_bot: Any) -> None:
    questions = ["<script>alert('x')</script> Geneva & rare earths <b>unclosed <i>",
                 "AT&T &amp; &nbsp; &#0; </b></b> terbium?", "🇨🇭 Geneva 🤝 trade truce? 👩‍👩‍👧‍👦",
                 "<<<>>>", "&", "   "]
    async with start_bot():
        for question in questions:
            rec = await ask_bot(bot_api, 1001, question)
            assert rec.ok and rec.params.get("parse_mode") == "HTML", (question, rec.response)
            parse_telegram_html(rec.params["text"])
    assert not [r for r in bot_api.requests if r.method == "sendMessage" and not r.ok]


async def test_nine_thousand_character_message(bot_api: FakeBotApi, start_bot: Any) -> None:
    question = ("What happened with Geneva and the rare earth export licences? " * 150)[:9000]
    async with start_bot():
        rec = await ask_bot(bot_api, 1001, question)
    assert rec.ok and len(shown(rec)) <= 4096  # the engine reads the first 1,000 characters
    assert "Searching for" not in shown(rec)


async def test_commands(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot():
        start = shown(await ask_bot(bot_api, 1001, "/start"))
        help_text = shown(await ask_bot(bot_api, 1001, "/help"))
        latest = shown(await ask_bot(bot_api, 1001, "/latest"))
        corpus = shown(await ask_bot(bot_api, 1001, "/sources"))
        ask = shown(await ask_bot(bot_api, 1001, f"/ask {GENEVA}"))
        usage = shown(await ask_bot(bot_api, 1001, "/ask"))
        unknown = shown(await ask_bot(bot_api, 1001, "/frobnicate now"))
    assert all(q in start for q in EXAMPLES)
    assert "/ask <question>" in help_text and "/reset" in help_text and "folded quotes" in help_text
    assert latest.startswith("Latest briefs\n• ") and latest.count("• ") == 2
    assert "2 brief(s), 12 passage(s)" in corpus and "Rare Earth Exchanges" in corpus
    assert GENEVA_CITED in ask
    assert usage.startswith("Usage: /ask <question>")
    assert unknown == "Unknown command /frobnicate. Try /help, or just ask a question."


async def test_nothing_relevant_is_an_honest_answer(bot_api: FakeBotApi, start_bot: Any) -> None:
    async with start_bot():
        rec = await ask_bot(bot_api, 1001, "zyxxyq qqwvvz")
    assert shown(rec).startswith("Nothing in the briefs answers this closely enough")
    assert "reply_markup" not in rec.params


async def test_a_briefed_answer_opens_with_the_brief_then_expandable_quotes(
        bot_api: FakeBotApi, start_bot: Any, hash_engine_factory: Callable[..., Engine]) -> None:
    plain = hash_engine_factory()
    engine = BriefingEngine(plain.data_dir, embedder=plain.embedder, today=plain.today)
    answer, _ = engine.ask(GENEVA)
    async with start_bot(engine):
        rec = await ask_bot(bot_api, 1001, GENEVA)
        bot_api.inline_query(GENEVA, user_id=1001)
        inline = await bot_api.wait_for_request("answerInlineQuery")
    markup, text = rec.params["text"], shown(rec)  # shown() asserts the fake Bot API accepted the HTML
    cited = [f"{s.text} [{_number(answer, s.rank)}]" for s in answer.brief]
    opening = text.split("\n\n1. ")[0]  # whole brief sentences, the best first, as many as 120 words allow
    assert markup.index(QUOTE) > 0 and opening in {" ".join(cited[:n]) for n in range(1, len(cited) + 1)}
    quotes = [e for e in rec.result["entities"] if e["type"] == "expandable_blockquote"]
    bold = [e for e in rec.result["entities"] if e["type"] == "bold"]
    assert len(quotes) == len(answer.passages) == 3 and len(bold) == 4  # three key sentences and "Sources"
    assert all(q["offset"] <= b["offset"] < q["offset"] + q["length"] for q, b in zip(quotes, bold))
    assert text.endswith(f"Sources\n{GENEVA_CITED}… — Rare Earth Exchanges")
    labels = [b["text"] for b in buttons(rec)]
    assert labels[:2] == ["More", "Sources"] and labels[2].startswith("[1] ")
    assert inline.ok and {r["description"] for r in inline.params["results"]} == {short_title(answer.brief[0].text, 120)}


def _number(answer: Answer, rank: int) -> int:
    """The citation number of the passage ranked `rank`."""
    passage = next(p for p in answer.passages if p.rank == rank)
    return answer.citations.index(passage.hit.citation) + 1


@pytest.mark.integration
async def test_real_geneva_reply_opens_with_a_brief_citing_the_expedited_export_licences(
        bot_api: FakeBotApi, start_bot: Any, real_index_dir: Path, real_embedder: Embedder, tmp_path: Path) -> None:
    engine = Engine(copy_index(real_index_dir, tmp_path / "real"), embedder=real_embedder, today=lambda: SAMPLE_TODAY)
    async with start_bot(engine):
        rec = await ask_bot(bot_api, 1001, GENEVA, timeout=60)
    opening, quoted = rec.params["text"].split(QUOTE, 1)
    brief = parse_telegram_html(opening)
    first, cited = re.match(r"(.+?) \[(\d+)\]", brief).groups()  # type: ignore[union-attr]
    assert cited == "1" and "Geneva" in first and shown(rec).startswith(brief) and quoted.startswith("1. ")
    licences = re.search(r"expedite.{0,40}licen[cs]es", brief, re.I) or re.search(r"shipments remain stalled", brief, re.I)
    assert licences, brief


@pytest.mark.integration
async def test_a_refusal_offers_the_closest_briefs_with_buttons_that_open_them(
        bot_api: FakeBotApi, start_bot: Any, real_index_dir: Path, real_embedder: Embedder, tmp_path: Path) -> None:
    """Too far in words and meaning to answer from, so refused; the brief it means is offered first, and its
    button opens that brief at its passage nearest the question."""
    engine = Engine(copy_index(real_index_dir, tmp_path / "real"), embedder=real_embedder, today=lambda: SAMPLE_TODAY)
    async with start_bot(engine):
        rec = await ask_bot(bot_api, 1001, "Why have the promised shipments not moved since the Swiss deal?", timeout=60)
        text = shown(rec)
        assert text.startswith("Nothing in the briefs answers this") and "\n\nClosest briefs (none answers it as asked)\n[1] " in text
        first = buttons(rec)[0]
        assert first["text"].startswith("[1] Has U.S.-China Trade Truce") and first["callback_data"].startswith("ctx:")
        assert not [b for b in buttons(rec) if b["text"] in ("More", "Sources", "Timeline")]  # no answer to expand
        await press(bot_api, 1001, rec.result["message_id"], first["callback_data"])
        opened = await bot_api.wait_for_request("sendMessage", lambda r: r.params["chat_id"] == 1001)
    assert shown(opened).startswith("From [1] Has U.S.-China Trade Truce Faltered Over Rare Earths?")
