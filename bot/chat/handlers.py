"""Thin Telegram handlers: parse the update, call the Telegram-free engine off the event loop, reply.

`Services` (stored in `application.bot_data["briefbot"]`) holds the engine, its single worker
thread, and the persisted conversation and answer stores. Every engine call — and every store
access that goes with it — runs on that one thread: the engine is CPU-bound and not thread-safe.
Index writes (the inbox, publishing) run on their own threads under the index's writer lock: they
build a new generation that questions pick up when it is published.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from telegram import (Bot, InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResultArticle,
                      InlineQueryResultsButton, InputTextMessageContent, LinkPreviewOptions, Message, MessageEntity,
                      Update)
from telegram.constants import ChatType, ParseMode
from telegram.error import Forbidden, NetworkError, TelegramError
from telegram.ext import ApplicationHandlerStop, CommandHandler, ContextTypes

from bot.access import REFUSAL, chat_allowed, is_admin
from bot.chat.answers import AnswerStore, StoredAnswer
from bot.chat.render import (inline_description, render_answer, render_context, render_corpus, render_inline,
                             render_latest, render_sources, render_stats, render_timeline)
from bot.config import BotConfig
from bot.conversations import ConversationStore, conversation_key
from bot.messages import esc, send_html, short_title, typing
from index.engine import Engine
from index.errors import BriefbotError, IndexMismatchError, IndexMissingError
from index.records import Answer, Chunk

__all__ = [
    "Services", "EXPIRED", "NO_INDEX", "EXAMPLES", "start", "help_command", "ask_command", "timeline_command",
    "latest", "sources",
    "reset", "stats", "private_text", "group_text", "private_other", "unknown_command", "button", "inline_query",
    "gate", "on_error",
]

log = logging.getLogger("briefbot.bot")
T = TypeVar("T")

EXPIRED = "This answer has expired, ask again."
NO_INDEX = "No briefs indexed yet; an operator runs `briefbot ingest …` to add some."
MISMATCH = "The index was built with another model; an operator runs `briefbot reindex`."
APOLOGY = "Sorry, something went wrong while answering. Please try again in a moment."
ADMIN_ONLY = "Sorry, /stats is only for the bot's operators."
EXAMPLES = ("What happened with Geneva?", "Who controls rare earth processing?", "What did Jamieson Greer say?")
INLINE_K = 5
_CALLBACK = re.compile(r"^(more|src|tl):([\w-]{1,16})$|^ctx:([\w-]{1,16}):(\d{1,2})$")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass
class Services:
    """The engine and the bot's persisted state; `run` executes a call on the engine thread."""

    config: BotConfig
    engine: Engine
    conversations: ConversationStore
    answers: AnswerStore
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="engine"))
    k: int = 3
    # Fast answers need no "typing…": skipping it saves a request against the flood limits
    # (AIORateLimiter counts chat actions towards a group's 20 messages a minute).
    typing_delay: float = 0.3
    started: float = field(default_factory=time.monotonic)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, partial(function, *args))

    def ask(self, key: str, chat_id: int, question: str, replied_to: int | None = None) -> tuple[Answer, StoredAnswer | None]:
        """Engine thread: resolve against the chat's (or the replied-to answer's) conversation and remember."""
        conversation = self.conversations.load(key)
        earlier = self.answers.for_message(chat_id, replied_to) if replied_to else None
        if earlier:
            conversation = earlier.conversation(conversation)
        answer, turn = self.engine.ask(question, self.k, conversation)
        if turn.resolved_query:
            conversation.add(turn)
            self.conversations.save(key, conversation)
        if answer.no_answer and not answer.closest:
            return answer, None
        stored = StoredAnswer.of(AnswerStore.new_id(), chat_id, answer, turn)
        self.answers.put(stored)
        return answer, stored

    def more(self, key: str, earlier: StoredAnswer) -> tuple[Answer, StoredAnswer | None]:
        """Engine thread: the next passages for an earlier answer (the "More" button)."""
        conversation = earlier.conversation(self.conversations.load(key))
        answer, turn = self.engine.ask("more", self.k, conversation)
        conversation.add(turn)
        self.conversations.save(key, conversation)
        if answer.no_answer:
            return answer, None
        stored = StoredAnswer.of(AnswerStore.new_id(), earlier.chat_id, answer, turn)
        self.answers.put(stored)
        return answer, stored

    def timeline(self, key: str, earlier: StoredAnswer) -> tuple[Answer, StoredAnswer | None]:
        """Engine thread: the story of an earlier answer's subject (the "Timeline" button), remembered
        like a question so "more" and "and before that?" follow it."""
        return self.ask(key, earlier.chat_id, f"timeline of {earlier.story}", None)

    def context(self, chunk_id: int, article_id: str) -> tuple[list[Chunk], int | None]:
        """Engine thread: a cited passage with its neighbours, and the cited passage's position."""
        found = self.engine.snapshot.chunks([chunk_id]) if chunk_id >= 0 else {}
        if chunk_id not in found or found[chunk_id][0].article_id != article_id:
            return [], None  # the index was rebuilt since: the id now means something else
        return self.engine.context(chunk_id), found[chunk_id][0].position

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.conversations.close()
        self.answers.close()


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data["briefbot"]  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- sending


async def send_all(bot: Bot, chat_id: int, messages: Sequence[str], *, markup: InlineKeyboardMarkup | None = None,
                   reply_to: int | None = None) -> list[Message]:
    """Send several messages in order; the keyboard goes under the last one."""
    sent = []
    for number, text in enumerate(messages, 1):
        sent.append(await send_html(bot, chat_id, text, markup=markup if number == len(messages) else None,
                                    reply_to=reply_to if number == 1 else None))
    return sent


def _quote(message: Message) -> int | None:
    """In groups, answers quote the question so it is clear whom they answer."""
    return message.message_id if message.chat.type != ChatType.PRIVATE else None


def keyboard(stored: StoredAnswer) -> InlineKeyboardMarkup:
    """More / Sources, then one button per cited brief (a refusal: per closest brief only); callback_data
    stays far below 64 bytes."""
    first = [InlineKeyboardButton("More", callback_data=f"more:{stored.id}")] if stored.has_more else []
    first.append(InlineKeyboardButton("Sources", callback_data=f"src:{stored.id}"))
    if stored.story:
        first.append(InlineKeyboardButton("Timeline", callback_data=f"tl:{stored.id}"))
    rows = [] if stored.refused else [first]
    for number, citation in enumerate(stored.citations[:8], 1):
        rows.append([InlineKeyboardButton(f"[{number}] {short_title(citation.title, 36)}",
                                          callback_data=f"ctx:{stored.id}:{number}")])
    return InlineKeyboardMarkup(rows)


async def _deliver(context: ContextTypes.DEFAULT_TYPE, chat_id: int, answer: Answer, stored: StoredAnswer | None,
                   reply_to: int | None) -> None:
    """Send a rendered answer with its buttons and remember which messages carry it."""
    sent = await send_all(context.bot, chat_id, render_answer(answer), reply_to=reply_to,
                          markup=keyboard(stored) if stored else None)
    if stored:
        svc = services(context)
        for message in sent:
            await svc.run(svc.answers.link_message, chat_id, message.message_id, stored.id)


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """The core path: typing…, engine on its thread, HTML reply with buttons."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    assert message is not None and chat is not None
    svc = services(context)
    key = conversation_key(chat.id, user.id if user else None, chat.type)
    replied = message.reply_to_message
    replied_id = replied.message_id if replied and replied.from_user and replied.from_user.id == context.bot.id else None
    async with typing(context.bot, chat.id, svc.typing_delay):
        answer, stored = await svc.run(svc.ask, key, chat.id, question, replied_id)
    await _deliver(context, chat.id, answer, stored, _quote(message))


# --------------------------------------------------------------------------- commands


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: what the bot does and three example questions."""
    examples = "\n".join(f"• {esc(q)}" for q in EXAMPLES)
    text = ("<b>Hi! I answer questions from industry news briefs</b>, quoting the passages with "
            f"numbered sources.\n\nTry:\n{examples}\n\nFollow-ups work too: “more”, “and terbium?”. "
            "In groups, mention me or use /ask. /help lists the commands.")
    await send_html(context.bot, update.effective_chat.id, text)  # type: ignore[union-attr]


HELP = ("<b>Ask a question</b> in plain words. I reply with a short brief: a few sentences from the briefs, each "
        "with its source number [n]. Below it, the passages they come from as folded quotes (tap one to read it, "
        "key sentence in bold), then the sources. Buttons: <i>More</i> (next passages), <i>Sources</i> (full "
        "citations), and one per brief for the surrounding text. Follow-ups work without repeating yourself "
        "(“what did he say?”, “and terbium?”, “more”, “what happened since then?”), or reply to one of my answers. "
        "Typos and misspelt names are corrected (shown as “Searching for: …”). "
        "When nothing answers closely enough I say so and list the closest briefs; tap one to read it.\n\n"
        "Story questions (“what happened with X?”, “catch me up on X”, “summarize X”) also get a dated <i>Timeline</i>, "
        "one line per brief, oldest first; the <i>Timeline</i> button shows it for any answer. Time words count: "
        "“this week”, “latest on X”, “what happened with X since the vote?”, “and before her trial?”.\n\n"
        "/ask &lt;question&gt; — ask (needed in groups, or mention me)\n"
        "/timeline &lt;subject&gt; — the story so far, brief by brief\n/latest — the newest briefs\n"
        "/sources — what the corpus holds\n/reset — forget our conversation\n/help — this text\n"
        "When alerts are on: /subscribe &lt;topic&gt;, /subscriptions, /unsubscribe, /digest")


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: how to ask and the command list."""
    await send_html(context.bot, update.effective_chat.id, HELP, reply_to=_quote(update.effective_message))  # type: ignore[union-attr,arg-type]


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask <question> in any chat."""
    parts = (update.effective_message.text or "").split(maxsplit=1)  # type: ignore[union-attr]
    if len(parts) < 2 or not parts[1].strip():
        await send_html(context.bot, update.effective_chat.id,  # type: ignore[union-attr]
                        f"Usage: /ask &lt;question&gt;, e.g. /ask {esc(EXAMPLES[0])}")
        return
    await answer_question(update, context, parts[1])


async def timeline_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/timeline <subject>: the story of the subject as a dated timeline under its brief."""
    parts = (update.effective_message.text or "").split(maxsplit=1)  # type: ignore[union-attr]
    if len(parts) < 2 or not parts[1].strip():
        await send_html(context.bot, update.effective_chat.id,  # type: ignore[union-attr]
                        "Usage: /timeline &lt;subject&gt;, e.g. /timeline Geneva")
        return
    await answer_question(update, context, f"timeline of {parts[1]}")


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/latest: the newest briefs with dates."""
    svc = services(context)
    articles = await svc.run(svc.engine.latest, 5)
    await send_all(context.bot, update.effective_chat.id, render_latest(articles),  # type: ignore[union-attr]
                   reply_to=_quote(update.effective_message))  # type: ignore[arg-type]


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sources: what the corpus holds."""
    svc = services(context)
    corpus = await svc.run(svc.engine.stats)
    await send_all(context.bot, update.effective_chat.id, render_corpus(corpus),  # type: ignore[union-attr]
                   reply_to=_quote(update.effective_message))  # type: ignore[arg-type]


async def reset(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reset: forget this chat's (this member's) conversation."""
    svc, chat, user = services(context), update.effective_chat, update.effective_user
    await svc.run(svc.conversations.reset, conversation_key(chat.id, user.id if user else None, chat.type))  # type: ignore[union-attr]
    await send_html(context.bot, chat.id, "Done: I forgot our conversation. Ask something new.",  # type: ignore[union-attr]
                    reply_to=_quote(update.effective_message))  # type: ignore[arg-type]


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins only): corpus numbers and uptime."""
    svc, chat, user = services(context), update.effective_chat, update.effective_user
    if not is_admin(svc.config, user.id if user else None):
        await send_html(context.bot, chat.id, esc(ADMIN_ONLY))  # type: ignore[union-attr]
        return
    try:
        corpus = await svc.run(svc.engine.stats)
    except IndexMissingError:
        corpus = None
    extra = [("Stored answers", await svc.run(svc.answers.count))]
    await send_all(context.bot, chat.id, render_stats(corpus, time.monotonic() - svc.started, extra))  # type: ignore[union-attr]


# --------------------------------------------------------------------------- messages


def _question_text(message: Message, bot_username: str) -> str:
    """The message text (or caption) without @botname mentions."""
    text = message.text or message.caption or ""
    return re.sub(rf"@{re.escape(bot_username)}\b", " ", text, flags=re.I).strip() if bot_username else text


def _addressed(message: Message, bot: Bot) -> bool:
    """In a group: the bot is @mentioned or the message replies to one of its messages."""
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot.id:
        return True
    mentions = message.parse_entities([MessageEntity.MENTION]) if message.text else {}
    return any(m.lower() == f"@{bot.username}".lower() for m in mentions.values())


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Private chat: any text (or photo caption) is a question."""
    message = update.effective_message
    if message is None or (message.via_bot and message.via_bot.id == context.bot.id):
        return
    await answer_question(update, context, _question_text(message, context.bot.username))


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Groups: answer only when mentioned or replied to."""
    message = update.effective_message
    if message is None or (message.via_bot and message.via_bot.id == context.bot.id):
        return
    if not _addressed(message, context.bot):
        return
    question = _question_text(message, context.bot.username)
    if not question:
        await send_html(context.bot, message.chat.id, "Yes? Ask me about the briefs, e.g. "
                        f"“{esc(EXAMPLES[0])}”", reply_to=message.message_id)
        return
    await answer_question(update, context, question)


async def private_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Private chat: stickers, photos without caption, voice… get a one-line hint."""
    await send_html(context.bot, update.effective_chat.id,  # type: ignore[union-attr]
                    "I read text questions only, e.g. “What happened with Geneva?”")


def _claimed(context: ContextTypes.DEFAULT_TYPE, command: str) -> bool:
    """Whether any registered CommandHandler (ours or the alerts') handles /command."""
    return any(isinstance(h, CommandHandler) and command in h.commands
               for group in context.application.handlers.values() for h in group)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Commands nobody handles get a short help line (in groups only when addressed to this bot)."""
    message = update.effective_message
    match = re.match(r"/([A-Za-z0-9_]+)(?:@(\w+))?", message.text or "") if message else None
    if message is None or match is None or _claimed(context, match.group(1).lower()):
        return
    target = match.group(2)
    if target and target.lower() != (context.bot.username or "").lower():
        return
    if message.chat.type != ChatType.PRIVATE and not target:
        return
    await send_html(context.bot, message.chat.id, f"Unknown command /{esc(match.group(1))}. "
                    "Try /help, or just ask a question.", reply_to=_quote(message))


# --------------------------------------------------------------------------- buttons and inline


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """More / Sources / per-brief context buttons; unknown or expired ids say so plainly."""
    query, svc = update.callback_query, services(context)
    assert query is not None
    match = _CALLBACK.match(query.data or "")
    message = query.message if isinstance(query.message, Message) else None
    stored = await svc.run(svc.answers.get, match.group(2) or match.group(3)) if match and message else None
    number = int(match.group(4)) if match and match.group(4) else None
    if (stored is None or message is None or stored.chat_id != message.chat.id
            or (number is not None and not 1 <= number <= len(stored.citations))):
        await query.answer(EXPIRED)
        return
    await query.answer()
    if number is not None:
        await _show_context(context, message, stored, number)
    elif match and match.group(1) == "src":
        await send_all(context.bot, message.chat.id, render_sources(stored.citations), reply_to=message.message_id)
    elif match and match.group(1) == "tl":
        await _show_timeline(context, message, stored, query.from_user.id)
    else:
        key = conversation_key(message.chat.id, query.from_user.id, message.chat.type)
        async with typing(context.bot, message.chat.id, svc.typing_delay):
            answer, more = await svc.run(svc.more, key, stored)
        await _deliver(context, message.chat.id, answer, more, message.message_id)


async def _show_timeline(context: ContextTypes.DEFAULT_TYPE, message: Message, stored: StoredAnswer, user_id: int) -> None:
    """The Timeline button: the story of the answer's subject, as a reply to the answer."""
    svc = services(context)
    if not stored.story:
        await send_html(context.bot, message.chat.id, "This answer has no story across briefs.", reply_to=message.message_id)
        return
    key = conversation_key(message.chat.id, user_id, message.chat.type)
    async with typing(context.bot, message.chat.id, svc.typing_delay):
        answer, told = await svc.run(svc.timeline, key, stored)
    sent = await send_all(context.bot, message.chat.id, render_timeline(answer), reply_to=message.message_id,
                          markup=keyboard(told) if told else None)
    for reply in sent if told else ():
        await svc.run(svc.answers.link_message, message.chat.id, reply.message_id, told.id)  # type: ignore[union-attr]


async def _show_context(context: ContextTypes.DEFAULT_TYPE, message: Message, stored: StoredAnswer, number: int) -> None:
    """The passage cited as [number] with its neighbours, as a reply to the answer."""
    svc = services(context)
    citation = stored.citations[number - 1]
    chunks, focus = await svc.run(svc.context, stored.chunk_ids[number - 1], citation.article_id)
    await send_all(context.bot, message.chat.id, render_context(number, citation, chunks, focus),
                   reply_to=message.message_id)


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@botname question in any chat: the top passages as results, each with its citation, described by the brief."""
    query, svc = update.inline_query, services(context)
    text = (query.query or "").strip()  # type: ignore[union-attr]
    if not text:
        await query.answer([], cache_time=5, is_personal=True)  # type: ignore[union-attr]
        return
    answer, _ = await svc.run(svc.engine.ask, text, INLINE_K)
    results = _inline_timeline(answer) + [InlineQueryResultArticle(
        id=str(p.hit.chunk_id), title=short_title(p.hit.citation.title, 64), description=inline_description(answer, p),
        input_message_content=InputTextMessageContent(render_inline(p, p.hit.citation), parse_mode=ParseMode.HTML,
                                                      link_preview_options=_NO_PREVIEW))
        for p in answer.passages]
    if not results:
        notice = answer.notice or "Nothing in the briefs answers this closely enough."
        results = [InlineQueryResultArticle(id="none", title="Nothing relevant in the briefs", description=notice,
                                            input_message_content=InputTextMessageContent(esc(notice), parse_mode=ParseMode.HTML))]
    await query.answer(results, cache_time=10, is_personal=True)  # type: ignore[union-attr]


def _inline_timeline(answer: Answer) -> list[InlineQueryResultArticle]:
    """"@bot timeline X": the story as the first result, sent as its dated lines."""
    if not answer.timeline:
        return []
    story = answer.timeline
    return [InlineQueryResultArticle(
        id="timeline", title=short_title(f"Timeline: {story.subject}", 64),
        description=f"{len(story.entries)} briefs, {story.entries[0].published_at} to {story.entries[-1].published_at}",
        input_message_content=InputTextMessageContent(render_timeline(answer)[0], parse_mode=ParseMode.HTML,
                                                      link_preview_options=_NO_PREVIEW))]


# --------------------------------------------------------------------------- access and errors


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Before everything: chats outside BRIEFBOT_ALLOWED_CHAT_IDS get a polite refusal and no data."""
    config = services(context).config
    chat, user = update.effective_chat, update.effective_user
    where = chat.id if chat else (user.id if user else None)
    if chat_allowed(config, where):
        return
    log.info("refused update from chat %s (not in BRIEFBOT_ALLOWED_CHAT_IDS)", where)
    with suppress(TelegramError):
        if update.callback_query:
            await update.callback_query.answer(REFUSAL, show_alert=True)
        elif update.inline_query:
            await update.inline_query.answer([], cache_time=0, is_personal=True, button=InlineQueryResultsButton(
                "This bot is private", start_parameter="private"))
        elif update.message and chat and (chat.type == ChatType.PRIVATE or _is_addressed_command(update.message, context.bot)):
            await update.message.reply_text(REFUSAL)
    raise ApplicationHandlerStop


def _is_addressed_command(message: Message, bot: Bot) -> bool:
    return bool(message.text and (message.text.startswith("/") or _addressed(message, bot)))


def _describe(update: object) -> str:
    """Update kind, chat and user ids for logs (never message text or the token)."""
    if not isinstance(update, Update):
        return "no update" if update is None else type(update).__name__
    kind = next((k for k in ("message", "edited_message", "callback_query", "inline_query", "channel_post")
                 if getattr(update, k, None) is not None), "other")
    chat, user = update.effective_chat, update.effective_user
    return (f"update {update.update_id} ({kind}, chat {chat.id if chat else '-'} {chat.type if chat else ''}, "
            f"user {user.id if user else '-'})")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: log with context, tell the user where a reply makes sense."""
    error = context.error
    if isinstance(error, Forbidden):
        log.warning("%s: cannot write there (%s)", _describe(update), error)
        return
    if isinstance(error, NetworkError) and not isinstance(update, Update):
        log.warning("network problem talking to Telegram: %s", error)
        return
    if isinstance(error, IndexMissingError):
        text = NO_INDEX
    elif isinstance(error, IndexMismatchError):
        log.error("%s: %s", _describe(update), error)
        text = MISMATCH
    else:
        log.error("%s failed", _describe(update), exc_info=error)
        text = APOLOGY if not isinstance(error, BriefbotError) else str(error)
    if not isinstance(update, Update):
        return
    with suppress(TelegramError):
        if update.callback_query:
            await update.callback_query.answer(text[:200])
        elif update.inline_query:
            await update.inline_query.answer([], cache_time=0, is_personal=True)
        elif update.message and update.effective_chat and update.effective_chat.type != ChatType.CHANNEL:
            await send_html(context.bot, update.effective_chat.id, esc(text), reply_to=_quote(update.message))
