"""Tests for the fake Telegram Bot API, driven by the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResultArticle, \
    InputTextMessageContent, Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from tests.fakebotapi import FakeBotApi, TelegramHtmlError, parse_telegram_html, \
    parse_telegram_html_entities


@pytest_asyncio.fixture
async def app(fake_bot_api: FakeBotApi) -> AsyncIterator[Application]:
    """An initialized PTB Application pointed at the fake (no polling)."""
    application = fake_bot_api.application_builder().build()
    async with application:
        yield application


def _retry_seconds(exc: RetryAfter) -> float:
    """retry_after as seconds whether PTB returns int or timedelta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns that the int form is deprecated
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# ----------------------------------------------------------------------------- HTML parser


@pytest.mark.parametrize(("markup", "visible"), [
    ("<b>bold <i>both</i></b> plain", "bold both plain"),
    ("AT&amp;T &lt;tag&gt; &quot;q&quot;", 'AT&T <tag> "q"'),
    ("smile &#128512; &#x1F600;", "smile 😀 😀"),
    ('<a href="https://x">y</a>', "y"),
    ('<span class="tg-spoiler">secret</span> <tg-spoiler>s2</tg-spoiler>', "secret s2"),
    ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
    ("<blockquote expandable>quote</blockquote>", "quote"),
    ("<B>upper</B> <strong>s</strong><em>e</em><ins>i</ins><del>d</del>", "upper seid"),
    ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
    ("AT&T and &foo without semicolon", "AT&T and &foo without semicolon"),
])
def test_html_parser_accepts_valid_markup(markup: str, visible: str) -> None:
    """Valid Telegram HTML parses to its visible text."""
    assert parse_telegram_html(markup) == visible


@pytest.mark.parametrize(("markup", "detail"), [
    ("hello <script>x</script>", 'Unsupported start tag "script" at byte offset 6'),
    ("<b><i></b></i>", 'Unmatched end tag at byte offset 6, expected "</i>", found "</b>"'),
    ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
    ("line<br>next", 'Unsupported start tag "br" at byte offset 4'),
    ("x <y", "Unclosed start tag at byte offset 2"),
    ("if x<y then", 'Unsupported start tag "y" at byte offset 4'),
    ("a<b then", 'Expected equal sign in declaration of an attribute of the tag "b" at byte offset 1'),
    ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
    ("close</b>", "Unexpected end tag at byte offset 5"),
    ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ("é<div>", 'Unsupported start tag "div" at byte offset 2'),
])
def test_html_parser_rejects_like_telegram(markup: str, detail: str) -> None:
    """Invalid markup fails with Telegram's detail text (byte offsets in UTF-8)."""
    with pytest.raises(TelegramHtmlError) as info:
        parse_telegram_html(markup)
    assert str(info.value) == detail


def test_html_parser_entities_and_lenient_mode() -> None:
    """Entities use UTF-16 offsets; strict_entities=False renders unknown entities literally."""
    text, entities = parse_telegram_html_entities('😀 <b>hi</b> <a href="https://e.x">l</a>')
    assert text == "😀 hi l"
    assert entities == [{"offset": 3, "length": 2, "type": "bold"},
                        {"offset": 6, "length": 1, "type": "text_link", "url": "https://e.x"}]
    assert parse_telegram_html("a&nbsp;b", strict_entities=False) == "a&nbsp;b"


# ----------------------------------------------------------------------------- via PTB


@pytest.mark.asyncio
async def test_echo_round_trip_with_polling(fake_bot_api: FakeBotApi) -> None:
    """Updater long-polls, a handler echoes HTML-escaped text, shutdown is prompt."""
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Echo the message text back as HTML."""
        assert update.message and update.message.text
        await update.message.reply_text(html.escape(update.message.text), parse_mode="HTML")

    application = fake_bot_api.application_builder().build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=10)
        await fake_bot_api.wait_for_request("deleteWebhook")
        update = fake_bot_api.user_message(42, "a < b & <i>c</i>")
        request = await fake_bot_api.wait_for_request("sendMessage", timeout=5)
        latency = request.timestamp - fake_bot_api.pushed_at(update["update_id"])
        assert 0 < latency < 2
        assert request.params["chat_id"] == 42
        assert request.params["text"] == "a &lt; b &amp; &lt;i&gt;c&lt;/i&gt;"
        assert request.ok and request.result["text"] == "a < b & <i>c</i>"
        assert fake_bot_api.sent_messages(42)[0]["from"]["username"] == "briefbot_test_bot"
        started = time.perf_counter()
        await application.updater.stop()
        await application.stop()
    assert time.perf_counter() - started < 3


@pytest.mark.asyncio
async def test_get_updates_offset_limit_timeout_and_helpers(
        fake_bot_api: FakeBotApi, app: Application) -> None:
    """getUpdates honours offset/limit/timeout and every helper update de-serialises in PTB."""
    started = time.perf_counter()
    assert await app.bot.get_updates(timeout=1) == ()
    assert 0.9 < time.perf_counter() - started < 2
    sent = await app.bot.send_message(-100123, "menu")
    fake_bot_api.user_message(-100123, "/start@briefbot_test_bot hi @briefbot_test_bot")
    fake_bot_api.callback_query(-100123, sent.message_id, "cb:1", user_id=7)
    fake_bot_api.inline_query("news", user_id=7)
    fake_bot_api.edited_message(5, 1, "edited")
    fake_bot_api.sticker_message(5)
    fake_bot_api.channel_post(-100999, "post")
    first = await app.bot.get_updates(limit=2)
    assert len(first) == 2
    message = first[0].message
    assert message and message.chat.type == "supergroup"
    assert [e.type for e in message.entities] == ["bot_command", "mention"]
    assert first[1].callback_query and first[1].callback_query.message.text == "menu"
    rest = await app.bot.get_updates(offset=first[-1].update_id + 1, allowed_updates=[
        "message", "edited_message", "channel_post", "inline_query", "callback_query"])
    assert [bool(u.inline_query) for u in rest] == [True, False, False, False]
    assert rest[0].inline_query and rest[0].inline_query.query == "news"
    assert rest[2].message and rest[2].message.sticker
    assert rest[3].channel_post and rest[3].channel_post.text == "post"
    assert await app.bot.get_updates(offset=rest[-1].update_id + 1, timeout=0) == ()
    assert await app.bot.answer_callback_query(first[1].callback_query.id)
    with pytest.raises(BadRequest, match="Query is too old"):
        await app.bot.answer_callback_query(first[1].callback_query.id)


@pytest.mark.asyncio
async def test_long_poll_returns_promptly_on_push(fake_bot_api: FakeBotApi, app: Application) -> None:
    """A pending long poll is answered as soon as an update is pushed."""
    poll = asyncio.create_task(app.bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    fake_bot_api.user_message(1, "ping")
    updates = await asyncio.wait_for(poll, 2)
    assert updates[0].message and updates[0].message.text == "ping"


@pytest.mark.asyncio
async def test_bad_html_and_length_errors(app: Application) -> None:
    """send_message surfaces Telegram's 400s as BadRequest."""
    with pytest.raises(BadRequest, match="Can't parse entities: unsupported start tag \"script\""):
        await app.bot.send_message(1, "<script>alert(1)</script>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is too long"):
        await app.bot.send_message(1, "x" * 4097)
    with pytest.raises(BadRequest, match="Message is too long"):
        await app.bot.send_message(1, "😀" * 2049)  # 4098 UTF-16 code units
    assert await app.bot.send_message(1, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await app.bot.send_message(1, "<b> </b>", parse_mode="HTML")


@pytest.mark.asyncio
async def test_retry_after_and_forbidden(fake_bot_api: FakeBotApi, app: Application) -> None:
    """Injected 429 raises RetryAfter, blocked chats raise Forbidden, other errors pass through."""
    fake_bot_api.fail_next("sendMessage", 429, retry_after=5)
    with pytest.raises(RetryAfter) as info:
        await app.bot.send_message(10, "hi")
    assert _retry_seconds(info.value) == 5
    assert (await app.bot.send_message(11, "other chat")).text == "other chat"
    assert fake_bot_api.requests_during_retry_after == 0
    await app.bot.send_message(10, "too early")
    assert fake_bot_api.requests_during_retry_after == 1
    fake_bot_api.block_chat(20)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await app.bot.send_message(20, "hi")
    fake_bot_api.block_chat(-300)
    with pytest.raises(Forbidden, match="kicked from the group chat"):
        await app.bot.send_chat_action(-300, "typing")
    fake_bot_api.fail_next("getMe", 502)
    with pytest.raises(Exception, match="Bad Gateway"):
        await app.bot.get_me()


@pytest.mark.asyncio
async def test_flood_limits_and_violation_metric(fake_bot_api: FakeBotApi, app: Application) -> None:
    """The flood limiter answers 429 and counts requests sent inside retry_after windows."""
    fake_bot_api.set_flood_limits(global_per_sec=30, per_chat_per_sec=1, per_group_per_min=20)
    await app.bot.send_message(1, "one")
    with pytest.raises(RetryAfter) as info:
        await app.bot.send_message(1, "two")
    assert _retry_seconds(info.value) == 1
    assert fake_bot_api.requests_during_retry_after == 0
    with pytest.raises(RetryAfter):
        await app.bot.send_message(1, "three")
    assert fake_bot_api.requests_during_retry_after == 1
    await app.bot.send_message(2, "other chat is fine")
    fake_bot_api.set_flood_limits(enabled=False)
    fake_bot_api.reset_records()
    assert fake_bot_api.requests_during_retry_after == 0 and fake_bot_api.requests == []


@pytest.mark.asyncio
async def test_keyboards_edits_and_inline(fake_bot_api: FakeBotApi, app: Application) -> None:
    """callback_data limit, not-modified edits and answerInlineQuery limits."""
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="a" * 65)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await app.bot.send_message(1, "menu", reply_markup=too_long)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="a" * 64)]])
    msg = await app.bot.send_message(1, "<b>menu</b>", parse_mode="HTML", reply_markup=keyboard)
    assert msg.reply_markup == keyboard and msg.entities[0].type == "bold"
    with pytest.raises(BadRequest, match="Message is not modified"):
        await app.bot.edit_message_text("<b>menu</b>", 1, msg.message_id, parse_mode="HTML",
                                        reply_markup=keyboard)
    edited = await app.bot.edit_message_text("menu", 1, msg.message_id, reply_markup=keyboard)
    assert edited.text == "menu" and not edited.entities and edited.edit_date
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await app.bot.edit_message_text("x", 1, 999)
    await app.bot.edit_message_reply_markup(1, msg.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await app.bot.edit_message_reply_markup(1, msg.message_id, reply_markup=None)
    query_id = fake_bot_api.inline_query("q", user_id=3)["inline_query"]["id"]
    results = [InlineQueryResultArticle(str(n), "t", InputTextMessageContent("x"))
               for n in range(51)]
    with pytest.raises(BadRequest, match="Results_too_much"):
        await app.bot.answer_inline_query(query_id, results)
    bad = [InlineQueryResultArticle("1", "t", InputTextMessageContent("<br>", parse_mode="HTML"))]
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await app.bot.answer_inline_query(query_id, bad)
    assert await app.bot.answer_inline_query(query_id, results[:50])


@pytest.mark.asyncio
async def test_misc_methods(fake_bot_api: FakeBotApi, app: Application) -> None:
    """getMe, commands, chat members, getChat and token/method routing."""
    me = await app.bot.get_me()
    assert me.username == "briefbot_test_bot" and me.supports_inline_queries
    await app.bot.set_my_commands([("brief", "Daily brief"), ("help", "Help")])
    assert [c.command for c in await app.bot.get_my_commands()] == ["brief", "help"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await app.bot.set_my_commands([("Bad-Name", "x")])
    fake_bot_api.set_chat_member(-100, 5, "administrator")
    assert (await app.bot.get_chat_member(-100, 5)).status == "administrator"
    assert (await app.bot.get_chat_member(-100, 6)).status == "member"
    with pytest.raises(BadRequest, match="Chat not found"):
        await app.bot.get_chat(777)
    await app.bot.send_message(777, "hello")
    assert (await app.bot.get_chat(777)).type == "private"
    async with httpx.AsyncClient() as client:
        wrong = await client.post(f"{fake_bot_api.base_url}/bot1:wrong/getMe")
        unknown = await client.post(f"{fake_bot_api.base_url}/bot{fake_bot_api.token}/getFoo")
    assert wrong.status_code == 401 and wrong.json()["description"] == "Unauthorized"
    assert unknown.status_code == 404 and unknown.json()["description"] == "Not Found"
    other = Application.builder().token("1:wrong").base_url(fake_bot_api.ptb_base_url).build()
    try:
        with pytest.raises(InvalidToken):
            await other.bot.get_me()
    finally:
        await other.bot.request.shutdown()


async def test_files_get_file_and_download(fake_bot_api: FakeBotApi, app: Application, tmp_path: Path) -> None:
    """getFile describes stored files, refuses unknown ids and files over 20 MB; downloads serve the bytes."""
    document = fake_bot_api.add_file(b"Brief text", "brief.txt", "text/plain")
    file = await app.bot.get_file(document["file_id"])
    assert file.file_size == 10 and file.file_path.endswith(".txt")
    assert bytes(await file.download_as_bytearray()) == b"Brief text"
    assert (await file.download_to_drive(tmp_path / "x.txt")).read_bytes() == b"Brief text"
    huge = fake_bot_api.add_file(b"", "huge.pdf", declared_size=20 * 1024 * 1024 + 1)
    with pytest.raises(BadRequest, match="(?i)file is too big"):
        await app.bot.get_file(huge["file_id"])
    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await app.bot.get_file("no-such-file")


async def test_set_webhook_is_validated_and_blocks_polling(fake_bot_api: FakeBotApi, app: Application) -> None:
    """setWebhook needs HTTPS, a secret of Telegram's characters and known update types; polling then conflicts."""
    with pytest.raises(BadRequest, match="(?i)https url must be provided"):
        await app.bot.set_webhook("http://example.test/hook")
    with pytest.raises(BadRequest, match="(?i)secret token contains unallowed characters"):
        await app.bot.set_webhook("https://example.test/hook", secret_token="has space")
    with pytest.raises(BadRequest, match="(?i)allowed updates"):
        await app.bot.set_webhook("https://example.test/hook", allowed_updates=["message", "bogus"])
    assert await app.bot.set_webhook("https://example.test/hook", secret_token="ok_-1",
                                     allowed_updates=["message", "channel_post"])
    info = await app.bot.get_webhook_info()
    assert info.url == "https://example.test/hook" and list(info.allowed_updates) == ["message", "channel_post"]
    with pytest.raises(Conflict):
        await app.bot.get_updates()
    assert await app.bot.delete_webhook() and (await app.bot.get_webhook_info()).url == ""


def test_channel_posts_edits_and_documents_are_telegram_shaped(fake_bot_api: FakeBotApi) -> None:
    """Channel posts have no sender but sender_chat, URLs get entities, edits keep the id and add edit_date."""
    fake_bot_api.channel(-100123, "Desk", "desk")
    post = fake_bot_api.channel_post(-100123, "See https://example.com/a.")["channel_post"]
    assert "from" not in post and post["sender_chat"]["username"] == "desk"
    assert post["entities"] == [{"type": "url", "offset": 4, "length": 21}]
    edit = fake_bot_api.edit_channel_post(-100123, post["message_id"], "New text")["edited_channel_post"]
    assert edit["message_id"] == post["message_id"] and "edit_date" in edit and "entities" not in edit
    document = fake_bot_api.add_file(b"x", None, "application/pdf")
    message = fake_bot_api.document_message(5, document, caption="c")["message"]
    assert message["document"]["mime_type"] == "application/pdf" and message["caption"] == "c"
