"""A fake Telegram Bot API HTTP server for tests, strict where real Telegram is strict.

Point python-telegram-bot at it with ``fake.application_builder()`` or
``Application.builder().token(fake.token).base_url(fake.ptb_base_url)
.base_file_url(fake.ptb_base_file_url)``.

Files: ``add_file`` stores a document that ``getFile`` describes (refusing ones over Telegram's 20 MB bot
limit) and ``/file/bot<token>/<file_path>`` serves. Webhooks: ``setWebhook`` is validated like Telegram
(HTTPS URL, secret token characters, update types); with ``deliver_webhook_to(url)`` the fake then POSTs
pushed updates there with the ``X-Telegram-Bot-Api-Secret-Token`` header, standing in for Telegram plus
the TLS-terminating proxy, and ``getUpdates`` answers 409 as long as a webhook is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

JSON = dict[str, Any]

# --------------------------------------------------------------------------- HTML subset


class TelegramHtmlError(ValueError):
    """Raised when text is not valid Telegram HTML; str() is Telegram's detail text."""


_TAGS = frozenset(
    "a b strong i em u ins s strike del span tg-spoiler tg-emoji code pre blockquote".split()
)
_SPACES = " \t\r\n\v\0"
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
           "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
           "del": "strikethrough", "tg-spoiler": "spoiler", "span": "spoiler"}


def utf16_len(text: str) -> int:
    """Length of text in UTF-16 code units, as Telegram counts offsets and limits."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _decode_entity(t: str, pos: int, strict: bool) -> tuple[str, int]:
    """Decode the HTML entity at t[pos] like tdlib; returns ("", pos) if it is not one."""
    end, code = pos + 1, 0
    if t[end] == "#":
        end += 1
        hexa = t[end] == "x"
        end += hexa
        digits = "0123456789abcdefABCDEF" if hexa else "0123456789"
        while t[end] in digits:
            code = code * (16 if hexa else 10) + int(t[end], 16)
            end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return "", pos
        char = chr(code)
    else:
        while t[end].isascii() and t[end].isalpha():
            end += 1
        name = t[pos + 1 : end]
        if name not in _NAMED:
            if strict and name and t[end] == ";":
                offset = len(t[:pos].encode("utf-8", "surrogatepass"))
                raise TelegramHtmlError(f'Unsupported HTML entity "&{name};" at byte offset {offset}')
            return "", pos
        char = _NAMED[name]
    return char, end + (t[end] == ";")


def parse_telegram_html_entities(text: str, strict_entities: bool = True) -> tuple[str, list[JSON]]:
    """Parse Telegram's HTML subset like tdlib does; returns (visible text, MessageEntity dicts)."""
    t, n = text + "\0", len(text)
    out: list[str] = []
    entities: list[JSON] = []
    stack: list[tuple[str, str, int, int, bool]] = []  # tag, argument, utf16 start, out start, expandable
    u16 = 0
    i = 0

    def byte(pos: int) -> int:
        """Byte offset (UTF-8) of character index pos."""
        return len(text[:pos].encode("utf-8", "surrogatepass"))

    def fail(msg: str) -> TelegramHtmlError:
        """Build a parse error."""
        return TelegramHtmlError(msg)

    while i < n:
        c = t[i]
        if c == "&":
            char, j = _decode_entity(t, i, strict_entities)
            if char:
                out.append(char)
                u16 += 1 + (ord(char) > 0xFFFF)
                i = j
                continue
        if c != "<":
            out.append(c)
            u16 += 1 + (ord(c) > 0xFFFF)
            i += 1
            continue
        begin = i
        i += 1
        if t[i] != "/":
            while t[i] not in _SPACES and t[i] != ">":
                i += 1
            if i >= n:
                raise fail(f"Unclosed start tag at byte offset {byte(begin)}")
            tag = t[begin + 1 : i].lower()
            if tag not in _TAGS:
                raise fail(f'Unsupported start tag "{tag}" at byte offset {byte(begin)}')
            argument, expandable = "", False
            while t[i] != ">":
                while i < n and t[i] in _SPACES:
                    i += 1
                if t[i] == ">":
                    break
                attr_begin = i
                while t[i] not in _SPACES and t[i] not in "=>":
                    i += 1
                attr = t[attr_begin:i]
                if not attr:
                    raise fail(f'Empty attribute name in the tag "{tag}" at byte offset {byte(begin)}')
                while i < n and t[i] in _SPACES:
                    i += 1
                if t[i] != "=":
                    if tag == "blockquote" and attr == "expandable":
                        expandable = True
                        continue
                    raise fail('Expected equal sign in declaration of an attribute of the tag '
                               f'"{tag}" at byte offset {byte(begin)}')
                i += 1
                while i < n and t[i] in _SPACES:
                    i += 1
                if i >= n:
                    raise fail(f'Unclosed start tag "{tag}" at byte offset {byte(begin)}')
                if t[i] not in "'\"":
                    token_begin = i
                    while t[i].isascii() and (t[i].isalnum() or t[i] in ".-"):
                        i += 1
                    value = t[token_begin:i].lower()
                    if t[i] not in _SPACES and t[i] != ">":
                        raise fail(f"Unexpected end of name token at byte offset {byte(token_begin)}")
                else:
                    quote, chars = t[i], []
                    i += 1
                    while i < n and t[i] != quote:
                        if t[i] == "&":
                            char, j = _decode_entity(t, i, False)
                            if char:
                                chars.append(char)
                                i = j
                                continue
                        chars.append(t[i])
                        i += 1
                    i += t[i] == quote
                    value = "".join(chars)
                if i >= n:
                    raise fail(f"Unclosed start tag at byte offset {byte(begin)}")
                if (tag, attr) in (("a", "href"), ("tg-emoji", "emoji-id")):
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[3:]
            if tag == "span" and argument != "spoiler":
                raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {byte(begin)}')
            stack.append((tag, argument, u16, len(out), expandable))
            i += 1
        else:
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {byte(begin)}")
            while t[i] not in _SPACES and t[i] != ">":
                i += 1
            end_tag = t[begin + 2 : i].lower()
            while i < n and t[i] in _SPACES:
                i += 1
            if t[i] != ">":
                raise fail(f"Unclosed end tag at byte offset {byte(begin)}")
            tag, argument, start, out_start, expandable = stack.pop()
            if end_tag and end_tag != tag:
                raise fail(f'Unmatched end tag at byte offset {byte(begin)}, expected "</{tag}>", '
                           f'found "</{end_tag}>"')
            if u16 > start:
                ent: JSON = {"offset": start, "length": u16 - start}
                if tag in _SIMPLE:
                    ent["type"] = _SIMPLE[tag]
                elif tag == "blockquote":
                    if any(open_tag == "blockquote" for open_tag, *_ in stack):
                        ent = {}  # tdlib (fix_entities) keeps the outer of nested quotes and drops the inner
                    else:
                        ent["type"] = "expandable_blockquote" if expandable else "blockquote"
                elif tag == "tg-emoji":
                    if not argument.isdigit() or int(argument) == 0:
                        raise fail("Invalid custom emoji identifier specified")
                    ent.update(type="custom_emoji", custom_emoji_id=argument)
                elif tag == "a":
                    url = argument or "".join(out[out_start:])
                    if not url or any(ch in _SPACES for ch in url):
                        ent = {}  # tdlib silently drops links with invalid URLs
                    else:
                        ent.update(type="text_link", url=url)
                elif tag == "code":
                    prev = entities[-1] if entities else None
                    if prev and prev["type"] == "pre" and (prev["offset"], prev["length"]) == (
                            start, u16 - start) and argument:
                        prev["language"] = argument
                        ent = {}
                    else:
                        ent["type"] = "code"
                else:  # pre
                    ent["type"] = "pre"
                if ent:
                    entities.append(ent)
            i += 1
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    result = "".join(out)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in result):
        raise fail("Text contains invalid Unicode characters after decoding HTML entities, "
                   "check for unmatched surrogate code units")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return result, entities


def parse_telegram_html(text: str, strict_entities: bool = True) -> str:
    """Return the visible text of Telegram-HTML text; raises TelegramHtmlError like Telegram."""
    return parse_telegram_html_entities(text, strict_entities)[0]


# --------------------------------------------------------------------------- records


@dataclass
class RecordedRequest:
    """One HTTP call received by the fake (params JSON-decoded; times are perf_counter)."""

    method: str
    params: JSON
    timestamp: float
    token: str
    response: JSON | None = None
    status: int | None = None
    responded_at: float | None = None
    claimed: bool = field(default=False, repr=False)

    @property
    def ok(self) -> bool:
        """True if the fake answered {"ok": true}."""
        return bool(self.response and self.response.get("ok"))

    @property
    def result(self) -> Any:
        """The "result" of a successful call (None otherwise)."""
        return self.response.get("result") if self.response else None


@dataclass
class PushedUpdate:
    """An update queued by a test, with when it was pushed and first handed out."""

    update_id: int
    update: JSON
    pushed_at: float
    delivered_at: float | None = None


class ApiError(Exception):
    """An error response the fake sends to the bot."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        """Store the Bot API error fields."""
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def body(self) -> JSON:
        """Render as a Bot API error response body."""
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad(description: str) -> ApiError:
    """A 400 Bad Request error."""
    return ApiError(400, f"Bad Request: {description}")


_DEFAULT_DESCRIPTIONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
                         404: "Not Found", 409: "Conflict", 500: "Internal Server Error",
                         502: "Bad Gateway"}
_STRING_PARAMS = frozenset(
    "text parse_mode query callback_query_id inline_query_id inline_message_id url action "
    "description short_description next_offset language_code secret_token caption title emoji "
    "name business_connection_id message_effect_id ip_address file_id".split()
)
# Bots may download files up to 20 MB (getFile answers "file is too big" above that).
FILE_LIMIT = 20 * 1024 * 1024
UPDATE_TYPES = frozenset(
    "message edited_message channel_post edited_channel_post business_connection business_message "
    "edited_business_message deleted_business_messages message_reaction message_reaction_count inline_query "
    "chosen_inline_result callback_query shipping_query pre_checkout_query purchased_paid_media poll poll_answer "
    "my_chat_member chat_member chat_join_request chat_boost removed_chat_boost".split()
)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_URL_ENTITY = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]']")
FLOOD_METHODS = frozenset({"sendmessage", "editmessagetext", "editmessagereplymarkup"})
_BUTTON_ACTIONS = frozenset(
    "url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat "
    "switch_inline_query_chosen_chat copy_text callback_game pay".split()
)
_CHAT_ACTIONS = frozenset(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note".split()
)
_DEFAULT_ALLOWED = ["message", "edited_message", "channel_post", "edited_channel_post",
                    "inline_query", "chosen_inline_result", "callback_query", "my_chat_member"]
NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message")
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
_ADMIN_RIGHTS = ("can_be_edited is_anonymous can_manage_chat can_delete_messages "
                 "can_manage_video_chats can_restrict_members can_promote_members can_change_info "
                 "can_invite_users can_post_stories can_edit_stories can_delete_stories").split()
_RESTRICTED_RIGHTS = ("is_member can_change_info can_invite_users can_pin_messages can_send_messages "
                      "can_send_polls can_send_other_messages can_add_web_page_previews "
                      "can_manage_topics can_send_audios can_send_documents can_send_photos "
                      "can_send_videos can_send_video_notes can_send_voice_notes can_edit_tag").split()


# --------------------------------------------------------------------------- server


class FakeBotApi:
    """In-process fake of api.telegram.org: ``async with FakeBotApi() as fake: ...``."""

    DEFAULT_TOKEN = "123456789:TEST-briefbot-token"

    def __init__(self, token: str = DEFAULT_TOKEN, *, username: str = "briefbot_test_bot",
                 first_name: str = "BriefBot", strict_entities: bool = True,
                 host: str = "127.0.0.1") -> None:
        """Configure the fake; nothing is started until ``start()`` / ``async with``."""
        self.token, self.username, self.host = token, username, host
        self.strict_entities = strict_entities
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456789
        self.bot_user: JSON = {"id": self.bot_id, "is_bot": True, "first_name": first_name,
                               "username": username, "can_join_groups": True,
                               "can_read_all_group_messages": False,
                               "supports_inline_queries": True}
        self.requests: list[RecordedRequest] = []
        self.pushed_updates: list[PushedUpdate] = []
        self.retry_after_violations: list[RecordedRequest] = []
        self.webhook_url = ""
        self.webhook: JSON = {}  # the last setWebhook's parameters
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status) per POST to the bot
        self._webhook_target: str | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._files: dict[str, tuple[JSON, bytes]] = {}  # file_id → (File object, content)
        self._file_ids = itertools.count(1)
        self._queue: list[PushedUpdate] = []
        self._update_ids = itertools.count(100_001)
        self._query_ids = itertools.count(7_000_000_001)
        self._allowed: list[str] | None = None
        self._poll_generation = 0
        self._closing = False
        self._changed = asyncio.Event()
        self._chats: dict[int, JSON] = {}
        self._msg_counters: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._blocked: dict[int, str] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._commands: dict[str, list[JSON]] = {}
        self._open_queries: set[str] = set()
        self._failures: dict[str, deque[ApiError]] = {}
        self._windows: dict[tuple[Any, ...], float] = {}
        self._flood: dict[str, int] | None = None
        self._sent_times: dict[tuple[Any, ...], deque[float]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._methods: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            name.lower(): getattr(self, f"_m_{name}") for name in (
                "getMe getUpdates setWebhook deleteWebhook getWebhookInfo setMyCommands getFile "
                "getMyCommands deleteMyCommands sendMessage editMessageText "
                "editMessageReplyMarkup deleteMessage answerCallbackQuery answerInlineQuery "
                "sendChatAction getChat getChatMember close logOut").split()
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """Root URL of the server, e.g. http://127.0.0.1:PORT."""
        return f"http://{self.host}:{self.port}"

    @property
    def ptb_base_url(self) -> str:
        """Value for ApplicationBuilder.base_url()."""
        return f"{self.base_url}/bot"

    @property
    def ptb_base_file_url(self) -> str:
        """Value for ApplicationBuilder.base_file_url() (files added with ``add_file``)."""
        return f"{self.base_url}/file/bot"

    def application_builder(self) -> Any:
        """A PTB ApplicationBuilder already pointed at this fake."""
        from telegram.ext import Application

        return (Application.builder().token(self.token).base_url(self.ptb_base_url)
                .base_file_url(self.ptb_base_file_url))

    async def start(self) -> None:
        """Start listening on host:random port."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0,
                                     access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self.port = self._runner.addresses[0][1]
        self._closing = False

    async def stop(self) -> None:
        """Release pending long polls and stop the server."""
        self._closing = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop the server."""
        await self.stop()

    # ------------------------------------------------------------------ HTTP plumbing

    def _notify(self) -> None:
        """Wake everything waiting for a state change."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, timeout: float) -> None:
        """Sleep until the next state change or timeout."""
        try:
            await asyncio.wait_for(self._changed.wait(), max(timeout, 0))
        except asyncio.TimeoutError:
            pass

    async def _not_found(self, request: web.Request) -> web.Response:
        """Any path that is not /bot<token>/<method>."""
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    async def _download(self, request: web.Request) -> web.Response:
        """GET /file/bot<token>/<file_path>: the bytes of a file getFile described."""
        self.requests.append(RecordedRequest("download", {"file_path": request.match_info["path"]},
                                             time.perf_counter(), request.match_info["token"], status=200))
        found = [content for meta, content in self._files.values() if meta["file_path"] == request.match_info["path"]]
        if request.match_info["token"] != self.token or not found:
            self.requests[-1].status = 404
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        return web.Response(body=found[0], content_type="application/octet-stream")

    @staticmethod
    def _decode(key: str, value: str) -> Any:
        """Undo PTB's encoding: strings are sent raw, everything else JSON-encoded."""
        if key in _STRING_PARAMS:
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value

    async def _read_params(self, request: web.Request) -> JSON:
        """Parse query string, form, multipart or JSON body into a params dict."""
        raw: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json" and request.can_read_body:
            return {**{k: self._decode(k, v) for k, v in raw.items()}, **(await request.json())}
        if request.can_read_body:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    raw[key] = {"filename": value.filename, "content": value.file.read()}
                else:
                    raw[key] = value
        return {k: self._decode(k, v) if isinstance(v, str) else v for k, v in raw.items()}

    async def _handle(self, request: web.Request) -> web.Response:
        """Route, validate and answer one Bot API call."""
        now = time.perf_counter()
        method = request.match_info["method"]
        rec = RecordedRequest(method, {}, now, request.match_info["token"])
        self.requests.append(rec)
        try:
            rec.params = await self._read_params(request)
            if rec.token != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._methods.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            self._check_faults(rec)
            body: JSON = {"ok": True, "result": await handler(rec.params)}
            status = 200
        except ApiError as err:
            body, status = err.body(), err.code
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # malformed parameters
            body, status = _bad(f"invalid parameters ({exc!r})").body(), 400
        rec.response, rec.status, rec.responded_at = body, status, time.perf_counter()
        self._notify()
        return web.json_response(body, status=status)

    # ------------------------------------------------------------------ fault injection

    def block_chat(self, chat_id: int, description: str | None = None) -> None:
        """Make every send to chat_id fail with 403 (user blocked / bot kicked)."""
        if description is None:
            kind = "user" if chat_id > 0 else ("supergroup chat" if str(chat_id).startswith("-100")
                                               else "group chat")
            description = ("Forbidden: bot was blocked by the user" if kind == "user"
                           else f"Forbidden: bot was kicked from the {kind}")
        self._blocked[chat_id] = description

    def unblock_chat(self, chat_id: int) -> None:
        """Undo block_chat."""
        self._blocked.pop(chat_id, None)

    def fail_next(self, method: str, error_code: int, description: str | None = None,
                  retry_after: int | None = None, count: int = 1) -> None:
        """Answer the next `count` calls of `method` with this error (before any validation)."""
        if description is None:
            description = (f"Too Many Requests: retry after {retry_after}" if error_code == 429
                           else _DEFAULT_DESCRIPTIONS.get(error_code, "Internal Server Error"))
        queue = self._failures.setdefault(method.lower(), deque())
        queue.extend(ApiError(error_code, description, retry_after) for _ in range(count))

    def set_flood_limits(self, global_per_sec: int = 30, per_chat_per_sec: int = 1,
                         per_group_per_min: int = 20, enabled: bool = True) -> None:
        """Enable (or disable) Telegram-like flood limits on sendMessage/editMessage*."""
        self._flood = dict(g=global_per_sec, c=per_chat_per_sec, m=per_group_per_min) if enabled else None

    @property
    def requests_during_retry_after(self) -> int:
        """Number of requests that arrived while a retry_after window covering them was open."""
        return len(self.retry_after_violations)

    def _scopes(self, method: str, params: JSON) -> list[tuple[Any, ...]]:
        """Rate-limit scopes a request falls in: its chat, global, and its own method."""
        scopes: list[tuple[Any, ...]] = []
        if method in FLOOD_METHODS:
            if isinstance(params.get("chat_id"), int):
                scopes.append(("chat", params["chat_id"]))
            scopes.append(("global",))
        return scopes + [("method", method)]

    def _open_window(self, scope: tuple[Any, ...], now: float, retry_after: int) -> ApiError:
        """Register a retry_after window and build the 429."""
        self._windows[scope] = max(self._windows.get(scope, 0.0), now + retry_after)
        return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def _check_faults(self, rec: RecordedRequest) -> None:
        """Apply retry_after bookkeeping, injected failures and the flood limiter."""
        method, now = rec.method.lower(), rec.timestamp
        scopes = self._scopes(method, rec.params)
        open_until = [self._windows[s] for s in scopes if self._windows.get(s, 0.0) > now]
        if open_until:
            self.retry_after_violations.append(rec)
        queue = self._failures.get(method)
        if queue:
            err = queue.popleft()
            if err.retry_after:
                self._windows[scopes[0]] = max(self._windows.get(scopes[0], 0.0),
                                               now + err.retry_after)
            raise err
        if self._flood is None or method not in FLOOD_METHODS:
            return
        if open_until:
            raise self._open_window(scopes[0], now, max(1, math.ceil(max(open_until) - now)))
        limits = [(("global",), 1.0, self._flood["g"])]
        chat = rec.params.get("chat_id")
        if isinstance(chat, int):
            limits.append((("chat", chat), 1.0, self._flood["c"]))
            if chat < 0:
                limits.append((("group", chat), 60.0, self._flood["m"]))
        for key, window, limit in limits:
            times = self._sent_times.setdefault(key, deque())
            while times and times[0] <= now - window:
                times.popleft()
            if len(times) >= limit:
                scope = ("global",) if key[0] == "global" else ("chat", chat)
                raise self._open_window(scope, now, max(1, math.ceil(times[0] + window - now)))
        for key, _, _ in limits:
            self._sent_times[key].append(now)

    # ------------------------------------------------------------------ test driver

    def reset_records(self) -> None:
        """Forget recorded requests, pushed-update timings and retry_after violations."""
        self.requests.clear()
        self.pushed_updates.clear()
        self.retry_after_violations.clear()

    def set_chat_member(self, chat_id: int, user_id: int, status: str) -> None:
        """Set getChatMember status: creator/administrator/member/restricted/left/kicked."""
        self._members[(chat_id, user_id)] = status

    def sent_messages(self, chat_id: int | None = None) -> list[JSON]:
        """Message results of successful sendMessage/editMessageText calls, in order."""
        return [r.result for r in self.requests
                if r.method.lower() in ("sendmessage", "editmessagetext") and r.ok
                and isinstance(r.result, dict)
                and (chat_id is None or r.result["chat"]["id"] == chat_id)]

    def pushed_at(self, update_id: int) -> float:
        """perf_counter time at which update_id was pushed."""
        return next(p.pushed_at for p in self.pushed_updates if p.update_id == update_id)

    async def wait_for_request(self, method: str, predicate: Callable[[RecordedRequest], bool] |
                               None = None, timeout: float = 10.0) -> RecordedRequest:
        """Return the first answered, not yet returned request to `method` matching predicate."""
        deadline = time.monotonic() + timeout
        while True:
            for rec in self.requests:
                if (not rec.claimed and rec.response is not None
                        and rec.method.lower() == method.lower()
                        and (predicate is None or predicate(rec))):
                    rec.claimed = True
                    return rec
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [r.method for r in self.requests]
                raise TimeoutError(f"no matching {method} request within {timeout}s; saw {seen}")
            await self._wait_change(remaining)

    def push_update(self, update: JSON) -> JSON:
        """Queue a raw update for getUpdates (assigning update_id if missing); returns it."""
        update = copy.deepcopy(update)
        update.setdefault("update_id", next(self._update_ids))
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            if key in update:
                msg = update[key]
                self._chats.setdefault(msg["chat"]["id"], msg["chat"])
                self._messages[(msg["chat"]["id"], msg["message_id"])] = msg
        pushed = PushedUpdate(update["update_id"], update, time.perf_counter())
        self._queue.append(pushed)
        self.pushed_updates.append(pushed)
        self._notify()
        return update

    def _chat(self, chat_id: int, chat_type: str | None = None) -> JSON:
        """Known chat object for chat_id, created implicitly on first use."""
        if chat_id not in self._chats:
            kind = chat_type or ("private" if chat_id > 0 else
                                 "supergroup" if str(chat_id).startswith("-100") else "group")
            self._chats[chat_id] = ({"id": chat_id, "type": "private", "first_name": f"User{chat_id}",
                                     "username": f"user{chat_id}"} if kind == "private"
                                    else {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"})
        return self._chats[chat_id]

    def _user(self, user_id: int, username: str | None = None,
              first_name: str | None = None) -> JSON:
        """A plain (non-bot) user object."""
        if user_id == self.bot_id:
            return dict(self.bot_user)
        return {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}",
                "username": username or f"user{user_id}", "language_code": "en"}

    def _new_message(self, chat_id: int, sender: JSON | None, chat_type: str | None = None) -> JSON:
        """Skeleton message with the chat's next message_id."""
        self._msg_counters[chat_id] = self._msg_counters.get(chat_id, 0) + 1
        msg: JSON = {"message_id": self._msg_counters[chat_id], "date": int(time.time()),
                     "chat": self._chat(chat_id, chat_type)}
        if sender is not None:
            msg["from"] = sender
        return msg

    def _auto_entities(self, text: str) -> list[JSON]:
        """bot_command at the start, @mentions and http(s) URLs, with UTF-16 offsets."""
        entities: list[JSON] = []
        command = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?", text)
        if command:
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command[0])})
        for m in re.finditer(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}\b", text):
            if not command or m.start() >= command.end():
                entities.append({"type": "mention", "offset": utf16_len(text[: m.start()]),
                                 "length": utf16_len(m[0])})
        for m in _URL_ENTITY.finditer(text):
            entities.append({"type": "url", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m[0])})
        return sorted(entities, key=lambda e: e["offset"])

    def user_message(self, chat_id: int, text: str, user_id: int | None = None,
                     chat_type: str | None = None, reply_to_message_id: int | None = None,
                     username: str | None = None, first_name: str | None = None) -> JSON:
        """Push a text message from a user (entities auto-computed); returns the update."""
        user_id = user_id if user_id is not None else (chat_id if chat_id > 0 else 424242)
        msg = self._new_message(chat_id, self._user(user_id, username, first_name), chat_type)
        msg["text"] = text
        entities = self._auto_entities(text)
        if entities:
            msg["entities"] = entities
        if reply_to_message_id is not None:
            msg["reply_to_message"] = self._messages.get(
                (chat_id, reply_to_message_id),
                {"message_id": reply_to_message_id, "date": msg["date"], "chat": msg["chat"]})
        return self.push_update({"message": msg})

    def edited_message(self, chat_id: int, message_id: int, text: str,
                       user_id: int | None = None) -> JSON:
        """Push an edited_message update for a (user) message; returns the update."""
        user_id = user_id if user_id is not None else (chat_id if chat_id > 0 else 424242)
        base = self._messages.get((chat_id, message_id), {
            "message_id": message_id, "date": int(time.time()), "chat": self._chat(chat_id),
            "from": self._user(user_id)})
        msg = {**copy.deepcopy(base), "text": text, "edit_date": int(time.time())}
        msg.pop("entities", None)
        if entities := self._auto_entities(text):
            msg["entities"] = entities
        return self.push_update({"edited_message": msg})

    def sticker_message(self, chat_id: int, user_id: int | None = None, emoji: str = "😀",
                        chat_type: str | None = None) -> JSON:
        """Push a message carrying only a sticker; returns the update."""
        user_id = user_id if user_id is not None else (chat_id if chat_id > 0 else 424242)
        msg = self._new_message(chat_id, self._user(user_id), chat_type)
        msg["sticker"] = {"file_id": f"CAACAg-{msg['message_id']}", "file_unique_id": "AgAD1",
                          "type": "regular", "width": 512, "height": 512, "is_animated": False,
                          "is_video": False, "emoji": emoji}
        return self.push_update({"message": msg})

    def channel(self, chat_id: int, title: str, username: str | None = None) -> JSON:
        """Declare a channel (title, optional public @username); returns its chat object."""
        chat: JSON = {"id": chat_id, "type": "channel", "title": title}
        if username:
            chat["username"] = username
        self._chats[chat_id] = chat
        return chat

    def channel_post(self, chat_id: int, text: str | None = None, *, entities: list[JSON] | None = None,
                     document: JSON | None = None, caption: str | None = None, photo: bool = False) -> JSON:
        """Push a channel_post (chat type channel, no from): text, a document or a photo with a caption."""
        msg = self._new_message(chat_id, None, "channel")
        msg["sender_chat"] = msg["chat"]
        self._fill(msg, text, entities, document, caption, photo)
        return self.push_update({"channel_post": msg})

    def edit_channel_post(self, chat_id: int, message_id: int, text: str, entities: list[JSON] | None = None) -> JSON:
        """Push an edited_channel_post: the same post with new text (or caption, for media); returns the update."""
        msg = copy.deepcopy(self._messages[(chat_id, message_id)])
        field = "text" if "text" in msg else "caption"
        msg[field] = text
        msg.pop("entities" if field == "text" else "caption_entities", None)
        if found := (entities if entities is not None else self._auto_entities(text)):
            msg["entities" if field == "text" else "caption_entities"] = found
        msg["edit_date"] = int(time.time())
        return self.push_update({"edited_channel_post": msg})

    def document_message(self, chat_id: int, document: JSON, user_id: int | None = None,
                         caption: str | None = None) -> JSON:
        """Push a private (or group) message carrying a document (see ``add_file``); returns the update."""
        user_id = user_id if user_id is not None else (chat_id if chat_id > 0 else 424242)
        msg = self._new_message(chat_id, self._user(user_id))
        self._fill(msg, None, None, document, caption, False)
        return self.push_update({"message": msg})

    def _fill(self, msg: JSON, text: str | None, entities: list[JSON] | None, document: JSON | None,
              caption: str | None, photo: bool) -> None:
        """Text with its entities (URLs, commands, mentions found as Telegram does), or media with a caption."""
        if text is not None:
            msg["text"] = text
            if found := (entities if entities is not None else self._auto_entities(text)):
                msg["entities"] = found
            return
        if document is not None:
            msg["document"] = document
        if photo:
            msg["photo"] = [{"file_id": f"photo-{msg['message_id']}", "file_unique_id": "ph", "width": 90, "height": 90}]
        if caption is not None:
            msg["caption"] = caption
            if found := (entities if entities is not None else self._auto_entities(caption)):
                msg["caption_entities"] = found

    def add_file(self, content: bytes, file_name: str | None, mime_type: str | None = None,
                 declared_size: int | None = None) -> JSON:
        """Store a file the bot may fetch; returns the Document object for a message.

        `declared_size` is what Telegram reports (a huge file need not be materialised to test the limit).
        """
        number = next(self._file_ids)
        file_id = f"BQACAgIAAxkBAAI{number:08d}"
        size = len(content) if declared_size is None else declared_size
        suffix = re.sub(r"[^\w.]", "", file_name.rsplit(".", 1)[-1])[:10] if file_name and "." in file_name else ""
        meta = {"file_id": file_id, "file_unique_id": f"AgAD{number:06d}", "file_size": size,
                "file_path": f"documents/file_{number}{'.' + suffix if suffix else ''}"}
        self._files[file_id] = (meta, content)
        document: JSON = {"file_id": file_id, "file_unique_id": meta["file_unique_id"], "file_size": size}
        if file_name is not None:
            document["file_name"] = file_name
        if mime_type is not None:
            document["mime_type"] = mime_type
        return document

    def deliver_webhook_to(self, url: str) -> None:
        """Stand in for Telegram and the TLS proxy: while a webhook is set, POST pushed updates to `url`."""
        self._webhook_target = url
        if self._webhook_task is None:
            self._webhook_task = asyncio.create_task(self._deliver_webhooks())

    async def _deliver_webhooks(self) -> None:
        """One update at a time, in order, with the secret header; a failed delivery is retried, as Telegram does."""
        async with aiohttp.ClientSession() as session:
            while not self._closing:
                allowed = self.webhook.get("allowed_updates") or _DEFAULT_ALLOWED
                self._queue = [u for u in self._queue if any(k in allowed for k in u.update)]
                if not (self.webhook_url and self._webhook_target and self._queue):
                    await self._wait_change(1.0)
                    continue
                pushed = self._queue[0]
                headers = {SECRET_HEADER: self.webhook["secret_token"]} if self.webhook.get("secret_token") else {}
                try:
                    async with session.post(self._webhook_target, json=pushed.update, headers=headers) as response:
                        status = response.status
                except aiohttp.ClientError:
                    status = 0
                self.webhook_deliveries.append((pushed.update_id, status))
                if status == 200:
                    pushed.delivered_at = pushed.delivered_at or time.perf_counter()
                    self._queue.remove(pushed)
                    self._notify()
                else:
                    await asyncio.sleep(0.2)

    def callback_query(self, chat_id: int, message_id: int, data: str,
                       user_id: int | None = None) -> JSON:
        """Push a callback_query pressed on (chat_id, message_id); returns the update."""
        user_id = user_id if user_id is not None else (chat_id if chat_id > 0 else 424242)
        message = self._messages.get((chat_id, message_id), {
            "message_id": message_id, "date": int(time.time()), "chat": self._chat(chat_id),
            "from": dict(self.bot_user), "text": "..."})
        query_id = str(next(self._query_ids))
        self._open_queries.add(query_id)
        return self.push_update({"callback_query": {
            "id": query_id, "from": self._user(user_id), "message": copy.deepcopy(message),
            "chat_instance": str(chat_id), "data": data}})

    def inline_query(self, query: str, user_id: int, offset: str = "") -> JSON:
        """Push an inline_query from user_id; returns the update."""
        query_id = str(next(self._query_ids))
        self._open_queries.add(query_id)
        return self.push_update({"inline_query": {
            "id": query_id, "from": self._user(user_id), "query": query, "offset": offset,
            "chat_type": "private"}})

    # ------------------------------------------------------------------ validation helpers

    def _chat_id(self, params: JSON, sending: bool = True) -> int:
        """Resolve chat_id (int or @username); 403 for blocked chats when sending."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        if isinstance(raw, str):
            found = [cid for cid, c in self._chats.items() if f"@{c.get('username')}" == raw]
            if not found:
                raise _bad("chat not found")
            raw = found[0]
        chat_id = int(raw)
        if sending and chat_id in self._blocked:
            raise ApiError(403, self._blocked[chat_id])
        return chat_id

    def _render(self, text: Any, parse_mode: Any, entities: Any) -> tuple[str, list[JSON]]:
        """Apply parse_mode, then Telegram's empty/too-long checks; returns (text, entities)."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        mode = (parse_mode or "").lower() if isinstance(parse_mode, str) else ""
        if mode == "html":
            try:
                text, ents = parse_telegram_html_entities(text, self.strict_entities)
            except TelegramHtmlError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
        elif mode in ("", "markdown", "markdownv2"):
            ents = list(entities) if isinstance(entities, list) else []
        else:
            raise _bad("unsupported parse_mode")
        stripped = text.lstrip()
        shift = utf16_len(text) - utf16_len(stripped)
        text = stripped.rstrip()
        size = utf16_len(text)
        if not text:
            raise _bad("message text is empty")
        if size > 4096:
            raise _bad("message is too long")
        clipped = []
        for ent in ents:
            start, end = max(ent["offset"] - shift, 0), min(ent["offset"] + ent["length"] - shift, size)
            if end > start:
                clipped.append({**ent, "offset": start, "length": end - start})
        return text, clipped

    @staticmethod
    def _markup(markup: Any) -> JSON | None:
        """Validate reply_markup; returns it if it is an inline keyboard (echoed back)."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays')
        for button in (b for row in rows for b in row):
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _bad("can't parse inline keyboard button: Field \"text\" must be of type String")
            if not _BUTTON_ACTIONS & button.keys():
                raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the "
                           "inline keyboard")
            data = button.get("callback_data")
            if data is not None and (not isinstance(data, str) or len(data.encode()) > 64):
                raise _bad("BUTTON_DATA_INVALID")
            if "url" in button and not button["url"]:
                raise _bad("BUTTON_URL_INVALID")
        return markup

    def _target(self, params: JSON) -> JSON:
        """The bot's own message to edit, or 400 like Telegram."""
        chat_id = self._chat_id(params)
        msg = self._messages.get((chat_id, params.get("message_id")))  # type: ignore[arg-type]
        if msg is None:
            raise _bad("message to edit not found")
        if msg.get("from", {}).get("id") != self.bot_id:
            raise _bad("message can't be edited")
        return msg

    # ------------------------------------------------------------------ Bot API methods

    async def _m_getMe(self, p: JSON) -> JSON:
        """getMe."""
        return dict(self.bot_user)

    async def _m_getUpdates(self, p: JSON) -> list[JSON]:
        """getUpdates with offset/limit/timeout/allowed_updates and 409 on concurrent polls."""
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset, limit = int(p.get("offset") or 0), min(max(int(p.get("limit") or 100), 1), 100)
        if isinstance(p.get("allowed_updates"), list):
            self._allowed = p["allowed_updates"] or None
        if offset > 0:
            self._queue = [u for u in self._queue if u.update_id >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        deadline = time.monotonic() + max(float(p.get("timeout") or 0), 0.0)
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure "
                                    "that only one bot instance is running")
            allowed = self._allowed or _DEFAULT_ALLOWED
            self._queue = [u for u in self._queue if any(k in allowed for k in u.update)]
            batch = self._queue[:limit]
            if batch or self._closing or time.monotonic() >= deadline:
                now = time.perf_counter()
                for u in batch:
                    u.delivered_at = u.delivered_at or now
                return [copy.deepcopy(u.update) for u in batch]
            await self._wait_change(deadline - time.monotonic())

    async def _m_setWebhook(self, p: JSON) -> bool:
        """setWebhook with Telegram's checks (HTTPS URL, secret token, update types); getUpdates then answers 409."""
        url = str(p.get("url") or "")
        if url and not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not _SECRET.fullmatch(str(secret)):
            raise _bad("secret token contains unallowed characters")
        allowed = p.get("allowed_updates")
        if allowed is not None and (not isinstance(allowed, list) or not set(allowed) <= UPDATE_TYPES):
            raise _bad("can't parse allowed updates")
        self.webhook_url = url
        self.webhook = {"url": url, "secret_token": secret, "allowed_updates": allowed}
        if p.get("drop_pending_updates"):
            self._queue.clear()
        return True

    async def _m_deleteWebhook(self, p: JSON) -> bool:
        """deleteWebhook, honouring drop_pending_updates."""
        self.webhook_url = ""
        self.webhook = {}
        if p.get("drop_pending_updates"):
            self._queue.clear()
        return True

    async def _m_getWebhookInfo(self, p: JSON) -> JSON:
        """getWebhookInfo."""
        return {"url": self.webhook_url, "has_custom_certificate": False,
                **({"allowed_updates": self.webhook["allowed_updates"]} if self.webhook.get("allowed_updates") else {}),
                "pending_update_count": len(self._queue)}

    @staticmethod
    def _commands_key(p: JSON) -> str:
        """Storage key for a (scope, language_code) command list."""
        return json.dumps([p.get("scope") or {"type": "default"}, p.get("language_code") or ""],
                          sort_keys=True)

    async def _m_setMyCommands(self, p: JSON) -> bool:
        """setMyCommands with Telegram's command-name rules."""
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH" if isinstance(commands, list) else
                       "can't parse commands JSON object")
        for cmd in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(cmd.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(p)] = commands
        return True

    async def _m_getMyCommands(self, p: JSON) -> list[JSON]:
        """getMyCommands."""
        return self._commands.get(self._commands_key(p), [])

    async def _m_deleteMyCommands(self, p: JSON) -> bool:
        """deleteMyCommands."""
        self._commands.pop(self._commands_key(p), None)
        return True

    async def _m_sendMessage(self, p: JSON) -> JSON:
        """sendMessage with HTML/length/markup/reply validation."""
        chat_id = self._chat_id(p)
        text, entities = self._render(p.get("text"), p.get("parse_mode"), p.get("entities"))
        markup = self._markup(p.get("reply_markup"))
        reply = p.get("reply_parameters") or {}
        reply_id = reply.get("message_id") or p.get("reply_to_message_id")
        target = self._messages.get((int(reply.get("chat_id", chat_id)), reply_id)) if reply_id else None
        if reply_id and target is None and not (reply.get("allow_sending_without_reply")
                                                or p.get("allow_sending_without_reply")):
            raise _bad("message to be replied not found")
        msg = self._new_message(chat_id, dict(self.bot_user))
        msg["text"] = text
        if entities:
            msg["entities"] = entities
        if markup:
            msg["reply_markup"] = markup
        if target:
            msg["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}
        self._messages[(chat_id, msg["message_id"])] = msg
        return copy.deepcopy(msg)

    async def _m_editMessageText(self, p: JSON) -> JSON | bool:
        """editMessageText, including Telegram's "message is not modified" error."""
        text, entities = self._render(p.get("text"), p.get("parse_mode"), p.get("entities"))
        markup = self._markup(p.get("reply_markup"))
        if p.get("inline_message_id"):
            return True
        msg = self._target(p)
        if "text" not in msg:
            raise _bad("there is no text in the message to edit")
        if (text, entities, markup) == (msg["text"], msg.get("entities", []), msg.get("reply_markup")):
            raise _bad(NOT_MODIFIED)
        msg.update(text=text, entities=entities, reply_markup=markup, edit_date=int(time.time()))
        for key in ("entities", "reply_markup"):
            if not msg[key]:
                del msg[key]
        return copy.deepcopy(msg)

    async def _m_editMessageReplyMarkup(self, p: JSON) -> JSON | bool:
        """editMessageReplyMarkup, including "message is not modified"."""
        markup = self._markup(p.get("reply_markup"))
        if p.get("inline_message_id"):
            return True
        msg = self._target(p)
        if markup == msg.get("reply_markup"):
            raise _bad(NOT_MODIFIED)
        msg.update(reply_markup=markup, edit_date=int(time.time()))
        if markup is None:
            del msg["reply_markup"]
        return copy.deepcopy(msg)

    async def _m_deleteMessage(self, p: JSON) -> bool:
        """deleteMessage."""
        if self._messages.pop((self._chat_id(p), p.get("message_id")), None) is None:  # type: ignore[arg-type]
            raise _bad("message to delete not found")
        return True

    async def _m_answerCallbackQuery(self, p: JSON) -> bool:
        """answerCallbackQuery (each query can be answered once)."""
        query_id = str(p.get("callback_query_id"))
        if query_id not in self._open_queries:
            raise _bad(QUERY_TOO_OLD)
        self._open_queries.discard(query_id)
        return True

    async def _m_answerInlineQuery(self, p: JSON) -> bool:
        """answerInlineQuery: ≤50 results, unique ids, message texts validated like sendMessage."""
        query_id = str(p.get("inline_query_id"))
        if query_id not in self._open_queries:
            raise _bad(QUERY_TOO_OLD)
        results = p.get("results")
        if not isinstance(results, list):
            raise _bad("can't parse inline query results JSON object")
        if len(results) > 50:
            raise _bad("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            rid = str(result.get("id", ""))
            if not rid or len(rid.encode()) > 64:
                raise _bad("RESULT_ID_INVALID")
            if rid in seen:
                raise _bad("RESULT_ID_DUPLICATE")
            seen.add(rid)
            content = result.get("input_message_content") or {}
            if "message_text" in content:
                self._render(content["message_text"], content.get("parse_mode"), content.get("entities"))
            self._markup(result.get("reply_markup"))
        self._open_queries.discard(query_id)
        return True

    async def _m_sendChatAction(self, p: JSON) -> bool:
        """sendChatAction."""
        self._chat(self._chat_id(p))
        if p.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _m_getChat(self, p: JSON) -> JSON:
        """getChat for chats the fake has seen."""
        chat_id = self._chat_id(p, sending=False)
        if chat_id not in self._chats:
            raise _bad("chat not found")
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts",
                               "premium_subscription", "gifts_from_channels"), True)
        return {**self._chats[chat_id], "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": gifts}

    async def _m_getChatMember(self, p: JSON) -> JSON:
        """getChatMember with the status configured by set_chat_member (default member)."""
        chat_id, user_id = self._chat_id(p, sending=False), int(p.get("user_id") or 0)
        status = self._members.get((chat_id, user_id), "member")
        member: JSON = {"status": status, "user": self._user(user_id)}
        if status == "administrator":
            member.update(dict.fromkeys(_ADMIN_RIGHTS, True), is_anonymous=False)
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "restricted":
            member.update(dict.fromkeys(_RESTRICTED_RIGHTS, False), is_member=True, until_date=0)
        elif status == "kicked":
            member["until_date"] = 0
        return member

    async def _m_getFile(self, p: JSON) -> JSON:
        """getFile: a stored file's path for download; over 20 MB Telegram refuses."""
        found = self._files.get(str(p.get("file_id") or ""))
        if found is None:
            raise _bad("invalid file_id")
        if found[0]["file_size"] > FILE_LIMIT:
            raise _bad("file is too big")
        return dict(found[0])

    async def _m_close(self, p: JSON) -> bool:
        """close."""
        return True

    async def _m_logOut(self, p: JSON) -> bool:
        """logOut."""
        return True
