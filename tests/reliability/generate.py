"""Seeded generators of hostile-but-well-formed text and Telegram updates (deterministic per seed)."""

from __future__ import annotations

import json
import random
import string
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tests.fakebotapi import FakeBotApi, utf16_len

BOT_USERNAME = "briefbot_test_bot"
HTML_SPECIALS = ["<", ">", "&", '"', "'", "&amp;", "&lt;", "&#0;", "&#x110000;", "&bogus;", "&nbsp;", "</b>", "<b>",
                 "<script>alert(1)</script>", "<a href='javascript:alert(1)'>x</a>", "<i><b>unbalanced</i>", "<!--",
                 "-->", "<![CDATA[", "<tg-spoiler>", "<pre><code class=\"language-py\">", "&#55296;", "&#xD800;"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
BIDI = ["\u202e", "\u202d", "\u200f", "\u200e", "\u2066", "\u2069", "مرحبا", "שלום", "\u061c"]
EMOJI = ["😀", "🔥", "👩‍👩‍👧‍👦", "🇺🇳", "🏳️‍🌈", "👍🏽", "❤️", "🧪", "\U0001f9ec", "🀄", "🉐"]
ODD = ["\u0301", "Z\u0351\u0352\u0353", "\t", "\n", "\n\n\n", "\r\n", "\u2028", "\u2029", "\x7f", "\ufffd", "\U0010fffd",
       "ＡＢＣ", "ǅ", "ß", "İ", "\u0085", "\u00a0", "\u3000", "٣", "𝕏", "¯\\_(ツ)_/¯", "%s%n%x", "{0}", "${x}", "\\", "`"]
WORDS = ("Geneva rare earth terbium dysprosium Lynas China export licences magnets tariffs Greer processing "
         "What happened with who controls when did and more why is the price of").split()
QUESTIONS = ["What happened with Geneva?", "Who controls rare earth processing?", "What did Jamieson Greer say?",
             "more", "and terbium?", "what did he say?", "latest news", "What's new this week?", "since Geneva?"]
COMMANDS = ["start", "help", "ask", "latest", "sources", "reset", "stats", "subscribe", "subscriptions",
            "unsubscribe", "digest", "unknown", "ASK", "start@" + BOT_USERNAME, "ask@" + BOT_USERNAME, "help@other_bot",
            "x" * 32, "a_b_c", "digest daily 25:99", "digest daily 08:00 Mars/Olympus", "digest off",
            "subscribe " + "t" * 150, "unsubscribe nope"]


class TextGen:
    """Random strings built from the pieces Telegram users (and attackers) send."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def piece(self) -> str:
        r = self.rng
        kind = r.random()
        if kind < 0.30:
            return r.choice(WORDS)
        if kind < 0.45:
            return r.choice(HTML_SPECIALS)
        if kind < 0.55:
            return r.choice(EMOJI)
        if kind < 0.63:
            return r.choice(ZERO_WIDTH)
        if kind < 0.71:
            return r.choice(BIDI)
        if kind < 0.80:
            return r.choice(ODD)
        if kind < 0.90:
            return "".join(r.choice(string.printable) for _ in range(r.randint(1, 12)))
        # any code point outside the surrogates (Telegram never delivers lone surrogates)
        cp = r.randint(0x20, 0x10FFFF)
        return chr(cp) if not 0xD800 <= cp <= 0xDFFF else "?"

    def text(self, max_units: int = 4096) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.25:
            base = r.choice(QUESTIONS)
            return base if r.random() < 0.5 else f"{self.piece()} {base} {self.piece()}"
        if roll < 0.30:  # huge: up to Telegram's own 4,096-unit limit for incoming messages
            unit = r.choice(["word ", "😀", "<b>&amp;", "Geneva terbium. ", "\u200b"])
            out = unit * (max_units // max(utf16_len(unit), 1))
        else:
            out = " ".join(self.piece() for _ in range(r.randint(1, 40)))
        while utf16_len(out) > max_units:
            out = out[: len(out) * 3 // 4]
        return out or "?"


def _clip(text: str, units: int) -> str:
    while utf16_len(text) > units:
        text = text[:-1]
    return text


# Channels the fuzzed bot publishes from (BRIEFBOT_SOURCE_CHANNELS) and ones it must ignore.
SOURCE_CHANNELS = [-1009000000001 - i for i in range(3)]
OTHER_CHANNELS = [-1009000000101 - i for i in range(2)]
FILE_NAMES = ["brief.txt", "note.md", "page.html", "record.json", "feed.jsonl", "../../etc/passwd.txt", "<b>&amp;.md",
              "😀 emoji name.txt", "x" * 300 + ".md", "no-extension", "report.docx", "tool.exe", "scan.pdf", "UPPER.TXT"]


@dataclass(frozen=True)
class Expected:
    """An update that must be answered: `kind` and `key` name the answer (see the fuzz test's _FirstAnswers),
    `what` says what was pushed (for the report of anything left unanswered)."""

    kind: str  # "message" (first sendMessage to a chat), "reply" (sendMessage replying to a message), "callback", "inline"
    key: Any  # chat id; (chat id, message id); callback or inline query id
    pushed_at: float
    what: str


class UpdateFuzzer:
    """Pushes random well-formed updates into the fake; remembers what it pushed for correlation.

    `admins` are the bot's operators: their documents are answered by a reply to the document, matched by
    (chat, message id), since an operator's chat also receives the reports of rejected channel posts.
    """

    def __init__(self, fake: FakeBotApi, seed: int, admins: Sequence[int] = (), page_url: str | None = None) -> None:
        self.fake = fake
        self.rng = random.Random(seed)
        self.text = TextGen(self.rng)
        self.next_private = 50_000_000 + seed * 1_000_000
        self.groups = [-1001000000001 - i for i in range(20)] + [-4000001 - i for i in range(10)]
        self.admins = list(admins)
        self.operator_documents = 0
        self.page_url = page_url
        self.posts: list[tuple[int, int]] = []  # (channel, message id) of text posts, for edits
        self.counts: dict[str, int] = {}
        self.expect: list[Expected] = []  # the updates that need an answer
        for number, chat in enumerate(SOURCE_CHANNELS + OTHER_CHANNELS):
            fake.channel(chat, self.text.text(128), f"fuzz_channel_{number}" if number % 2 else None)

    def _private(self) -> int:
        self.next_private += 1
        return self.next_private

    def _note(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.fake.sent_messages() if m.get("reply_markup")]

    def push_one(self) -> None:
        r, fake = self.rng, self.fake
        roll = r.random()
        now = time.perf_counter()
        if roll < 0.30:  # private question
            chat = self._private()
            fake.user_message(chat, self.text.text())
            self.expect.append(Expected("message", chat, now, "private text"))
            self._note("private text")
        elif roll < 0.40:  # command, private or group
            command = r.choice(COMMANDS)
            args = "" if r.random() < 0.4 else " " + self.text.text(200)
            if r.random() < 0.5:
                chat = self._private()
                fake.user_message(chat, _clip(f"/{command}{args}", 4096), user_id=chat % 10_000_000)
                if not command.startswith("help@other") and not (command == "stats"):
                    self.expect.append(Expected("message", chat, now, f"private command /{command}"))
            else:
                fake.user_message(r.choice(self.groups), _clip(f"/{command}{args}", 4096), user_id=r.randint(1, 500))
            self._note("command")
        elif roll < 0.50:  # group text: mention, plain, or reply to the bot
            group = r.choice(self.groups)
            text = self.text.text(3000)
            how = r.random()
            if how < 0.4:
                text = f"@{BOT_USERNAME} {text}"
            reply = None
            if how > 0.8:
                mine = [m for m in fake.sent_messages(group)]
                reply = r.choice(mine)["message_id"] if mine else r.randint(1, 50)
            fake.user_message(group, _clip(text, 4096), user_id=r.randint(1, 500), reply_to_message_id=reply)
            self._note("group text")
        elif roll < 0.56:
            fake.sticker_message(r.choice([self._private(), r.choice(self.groups)]), emoji=r.choice(EMOJI))
            self._note("sticker")
        elif roll < 0.62:  # photo with or without caption
            chat = r.choice([self._private(), r.choice(self.groups)])
            msg: dict[str, Any] = {"message_id": r.randint(1, 10**6), "date": int(time.time()),
                                   "chat": {"id": chat, "type": "private" if chat > 0 else "supergroup",
                                            **({"first_name": "P"} if chat > 0 else {"title": "G"})},
                                   "from": {"id": abs(chat) % 10**7, "is_bot": False, "first_name": "U"},
                                   "photo": [{"file_id": "p", "file_unique_id": "p", "width": 9, "height": 9}]}
            if r.random() < 0.6:
                msg["caption"] = self.text.text(1024)
            fake.push_update({"message": msg})
            self._note("photo/caption")
        elif roll < 0.67:
            chat = r.choice([self._private(), r.choice(self.groups)])
            fake.edited_message(chat, r.randint(1, 100), self.text.text())
            self._note("edited message")
        elif roll < 0.72:
            self._channel_post()
        elif roll < 0.74 and self.posts:
            chat, message_id = r.choice(self.posts)
            fake.edit_channel_post(chat, message_id, self.text.text())
            self._note("edited channel post")
        elif roll < 0.77:
            self._document(now)
        elif roll < 0.83:  # callback queries: real, stale, forged
            mine = self.bot_messages()
            how = r.random()
            if mine and how < 0.5:
                target = r.choice(mine)
                buttons = [b for row in target["reply_markup"]["inline_keyboard"] for b in row if "callback_data" in b]
                data = r.choice(buttons)["callback_data"]
                if r.random() < 0.3:  # stale or tampered
                    data = r.choice([data[:-1], data + "9", data.replace(":", "::"), data.upper()])
                chat, message_id = target["chat"]["id"], target["message_id"]
            else:
                data = r.choice(["more:AAAAAAAA", "src:zzzzzzzz", "ctx:abcdefgh:99", "ctx:abcdefgh:0", "alert:ask:",
                                 "alert:ask:ffffffffffff", "more:", "x" * 64, "ctx:" + "9" * 60,
                                 _clip(self.text.text(64), 32)])
                while len(data.encode()) > 64:
                    data = data[:-1]
                chat, message_id = r.choice([self._private(), r.choice(self.groups)]), r.randint(1, 1000)
            update = fake.callback_query(chat, message_id, data, user_id=r.randint(1, 10**6))
            self.expect.append(Expected("callback", update["callback_query"]["id"], now, f"callback query {data!r}"))
            self._note("callback query")
        elif roll < 0.92:
            query = _clip(self.text.text(256), 256) if r.random() < 0.9 else ""
            update = fake.inline_query(query, user_id=r.randint(1, 10**6))
            self.expect.append(Expected("inline", update["inline_query"]["id"], now, "inline query"))
            self._note("inline query")
        elif roll < 0.96:  # unknown or unusual chat types
            chat_type = r.choice(["sender", "secret", "channel", "bizarre"])
            chat = r.randint(1, 10**9) * r.choice([1, -1])
            fake.push_update({"message": {"message_id": r.randint(1, 10**6), "date": int(time.time()),
                                          "chat": {"id": chat, "type": chat_type, "title": "?"},
                                          "from": {"id": abs(chat), "is_bot": False, "first_name": "Odd"},
                                          "text": self.text.text()}})
            self._note("unknown chat type")
        else:  # service messages and messages without text or sender
            chat = r.choice(self.groups)
            body = r.choice([{"new_chat_members": [{"id": 9, "is_bot": False, "first_name": "N"}]},
                             {"left_chat_member": {"id": 9, "is_bot": False, "first_name": "N"}},
                             {"new_chat_title": self.text.text(128)}, {"pinned_message": {"message_id": 1, "date": 0,
                              "chat": {"id": chat, "type": "supergroup"}}}, {}])
            fake.push_update({"message": {"message_id": r.randint(1, 10**6), "date": int(time.time()),
                                          "chat": {"id": chat, "type": "supergroup", "title": "G"}, **body}})
            self._note("service/no text")

    def _channel_post(self) -> None:
        """A post in a source channel (text, photo caption, document or link) or in a channel nobody listed."""
        r, fake = self.rng, self.fake
        chat = r.choice(SOURCE_CHANNELS if r.random() < 0.8 else OTHER_CHANNELS)
        how = r.random()
        if how < 0.55:
            text = self.text.text()
            # Telegram's entities never split a character: the bold run is a prefix of whole code points.
            bold = [{"type": "bold", "offset": 0, "length": utf16_len(text[: r.randint(1, min(len(text), 80))])}]
            update = fake.channel_post(chat, text, entities=bold if r.random() < 0.3 else None)
            self.posts.append((chat, update["channel_post"]["message_id"]))
        elif how < 0.75:
            fake.channel_post(chat, caption=self.text.text(1024) if r.random() < 0.8 else None, photo=True)
        elif how < 0.9:
            fake.channel_post(chat, document=self._file(), caption=self.text.text(1024) if r.random() < 0.3 else None)
        else:
            path = r.choice(["/article", "/missing", "/image"])
            base = self.page_url or "http://127.0.0.1:9"
            fake.channel_post(chat, f"{self.text.piece()} {base}{path}")
        self._note("channel post")

    def _document(self, now: float) -> None:
        """A document sent in private (by an operator or anyone else) or in a group (ignored)."""
        r, fake = self.rng, self.fake
        if r.random() < 0.15:
            fake.document_message(r.choice(self.groups), self._file(), user_id=r.randint(1, 500))
        elif self.admins and r.random() < 0.5:
            admin = self.admins[self.operator_documents % len(self.admins)]
            self.operator_documents += 1
            update = fake.document_message(admin, self._file(),
                                           caption=self.text.text(1024) if r.random() < 0.2 else None)
            message_id = update["message"]["message_id"]
            self.expect.append(Expected("reply", (admin, message_id), now, "document from an operator"))
        else:
            chat = self._private()
            fake.document_message(chat, self._file())
            self.expect.append(Expected("message", chat, now, "document from a non-operator"))
        self._note("document")

    def _file(self) -> dict[str, Any]:
        """A stored file: a brief (hostile text), a JSON record, damaged bytes, an unknown kind, or too big."""
        r, fake = self.rng, self.fake
        name = r.choice(FILE_NAMES)
        roll = r.random()
        if roll < 0.45:
            data = f"{self.text.text(200)}\n\n{self.text.text()}".encode("utf-8", "surrogatepass")
        elif roll < 0.6:
            name = "record.json"
            data = json.dumps({"title": self.text.text(200), "body": self.text.text()}).encode()
        elif roll < 0.8:
            data = bytes(r.getrandbits(8) for _ in range(r.randint(0, 2048)))
        else:
            data = self.text.text().encode("utf-8", "surrogatepass")
        size = 20 * 1024 * 1024 + r.randint(1, 10**7) if r.random() < 0.08 else None
        return fake.add_file(data, name if r.random() < 0.9 else None, r.choice([None, "text/plain", "application/pdf"]),
                             declared_size=size)
