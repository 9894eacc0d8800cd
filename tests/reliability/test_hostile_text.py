"""Issue 6 §2: briefs with hostile titles and bodies are ingested or rejected with a reason, and every answer,
button reply, inline result and alert made from them is valid Telegram HTML of at most 4,096 characters."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.alerts.render import brief_info, render_alert, render_collection
from bot.chat.render import (render_answer, render_context, render_corpus, render_inline, render_latest, render_sources,
                        split_html)
from bot.alerts.store import AlertStore
from bot.alerts.topics import NewBrief
from index.engine import Engine
from index.records import Citation
from tests.conftest import ask_bot
from tests.fakebotapi import FakeBotApi, TelegramHtmlError, parse_telegram_html, utf16_len
from tests.reliability.conftest import Figures, scale
from tests.reliability.generate import BIDI, EMOJI, HTML_SPECIALS, ODD, ZERO_WIDTH

COMMAND = ".venv/bin/pytest -q tests/reliability/test_hostile_text.py"
NASTY = "".join(HTML_SPECIALS) + "".join(ZERO_WIDTH) + "".join(BIDI) + "".join(EMOJI) + "".join(ODD)
PROSE = ("Terbium output rose sharply at the Lynas plant in Malaysia while dysprosium prices in China held steady "
         "as export licences were delayed again. ")


def hostile_records() -> list[dict[str, Any]]:
    """JSON records whose every field is hostile in some way."""
    return [
        {"id": "h-script", "title": "<script>alert('x')</script> Terbium & <b>bold</b> </i> claims",
         "body": PROSE + "<script>document.cookie</script> <b>unclosed <i>tags</b> &amp; &bogus; &#0; &#x110000; AT&T."},
        {"id": "h-control", "title": "Control\x00\x01\x07\x1b[31m characters \x7f in a title",
         "body": PROSE + "\x00\x0b\x0c\x1f bell\x07 escape\x1b[0m and DEL\x7f in the body."},
        {"id": "h-huge-para", "title": "One paragraph of fifty thousand characters about terbium",
         "body": (PROSE * 400)[:50_000]},
        {"id": "h-huge-word", "title": "A 50,000-character word", "body": PROSE + "x" * 50_000 + " " + PROSE},
        {"id": "h-emoji", "title": "😀" * 400 + " terbium emoji storm", "body": (PROSE + "🔥👩‍👩‍👧‍👦🇺🇳 ") * 60,
         "url": "https://example.com/" + "😀" * 50},
        {"id": "h-rtl", "title": "\u202eRTL override\u202c \u200b zero\u200dwidth \ufeff title مرحبا",
         "body": PROSE + "\u202e reversed \u202c" + "\u200b" * 500 + " שלום " + PROSE},
        {"id": "h-url", "title": "Hostile links", "body": PROSE * 3,
         "url": "javascript:alert(1)//\"><script>x</script>"},
        {"id": "h-long-url", "title": "A very long link", "body": PROSE * 3,
         "url": "https://example.com/" + "a&b=<c>" * 1500},
        {"id": "h-quotes", "title": "\"Quotes\" 'and' `ticks` & <a href=\"x\">links</a>", "body": PROSE * 2 + NASTY,
         "source": "<i>Evil & Co</i>", "author": "</b>Mallory<b>", "published_at": "2025-09-25"},
        {"id": "h-source-huge", "title": "Huge source name", "body": PROSE * 2, "source": "S&P " * 3000,
         "author": "A" * 10_000},
        {"id": "h-mojibake", "title": "Caf\u00c3\u00a9 and \u00e2\u20ac\u0153smart quotes\u00e2\u20ac\u009d",
         "body": PROSE + "Prices rose \u00e2\u20ac\u201c sharply \u00e2\u20ac\u201d in Z\u00c3\u00bcrich."},
        {"id": "h-surrogate", "title": "Lone surrogate \ud83d title", "body": PROSE + " broken \udc00 pair " + PROSE},
        {"id": "h-astral-title", "title": "𝕏" * 2000, "body": PROSE * 2},
        {"id": "h-entities-title", "title": "&lt;b&gt;not bold&lt;/b&gt; &amp;amp; &#60;i&#62;", "body": PROSE * 2},
        {"id": "h-only-markup", "title": "Only markup", "body": "<p></p><div><span></span></div>"},
        {"id": "h-only-control", "title": "Only control", "body": "\x00\x01\x02\x03"},
    ]


def hostile_files(folder: Path) -> list[Path]:
    """The records as .jsonl, plus the same hostility in .txt/.md/.html files and mixed encodings."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    jsonl = folder / "hostile.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in hostile_records()), encoding="utf-8")
    files.append(jsonl)
    txt = folder / "markup.txt"
    txt.write_text("<b>Terbium</b> & <script>alert(1)</script> title\n\nSeptember 24, 2025\n\n" + PROSE * 3
                   + "\n\n</div></i><b><b><b>" + NASTY + "\n", encoding="utf-8")
    files.append(txt)
    md = folder / "markup.md"
    md.write_text("# **<i>Dysprosium</i>** & co\n\n## Highlights\n- <b>one</b> & two\n- " + "😀" * 300
                  + "\n\n" + PROSE * 5, encoding="utf-8")
    files.append(md)
    html = folder / "page.html"
    html.write_text("<html><head><title>Terbium &amp; <script>x</script></title></head><body><article><h1>Terbium "
                    "&lt;b&gt;</h1><p>" + PROSE * 4 + "<script>alert(1)</script></p><p>" + "Long paragraph. " * 3000
                    + "</p><p><b><i>unbalanced</p></article></body></html>", encoding="utf-8")
    files.append(html)
    cp1252 = folder / "legacy.txt"
    cp1252.write_bytes(("Caf\u00e9 na\u00efve \u2013 terbium \u201cquoted\u201d\n\nLegacy cp1252 na\u00efvet\u00e9. " + PROSE * 3).encode("cp1252"))
    files.append(cp1252)
    utf16 = folder / "utf16.txt"
    utf16.write_bytes(("UTF-16 terbium brief \u00fc\n\nWritten in UTF-16 with a BOM. " + PROSE * 3).encode("utf-16"))
    files.append(utf16)
    mixed = folder / "mixed.txt"
    mixed.write_bytes("Mixed encodings terbium\n\n".encode() + PROSE.encode() * 2 + "caf\u00e9 ".encode("latin-1")
                      + "na\u00efve ".encode("utf-8") + PROSE.encode())
    files.append(mixed)
    latin_html = folder / "latin.html"
    latin_html.write_bytes(('<html><head><meta charset="iso-8859-1"><title>Caf\u00e9 terbium</title></head><body>'
                            '<article><p>' + PROSE * 4 + ' Z\u00fcrich \u00e9t\u00e9.</p></article></body></html>')
                           .encode("latin-1"))
    files.append(latin_html)
    return files


def _brief(article_id: str, seq: int, title: str, body: str, highlights: tuple[str, ...], source: str | None,
           published: date | None, url: str | None) -> NewBrief:
    return NewBrief(seq=seq, id=article_id, title=title, text=body, highlights=highlights, body=body,
                    published_at=published, ingested_at=time.time(), source=source, url=url,
                    vectors=np.zeros((0, 64), np.float32))


def assert_valid(messages: list[str], where: str) -> None:
    assert messages, f"{where}: no message"
    for text in messages:
        try:
            visible = parse_telegram_html(text)
        except TelegramHtmlError as error:
            raise AssertionError(f"{where}: invalid Telegram HTML ({error}): {text[:300]!r}") from None
        assert visible.strip(), f"{where}: empty message"
        assert utf16_len(visible.strip()) <= 4096, f"{where}: {utf16_len(visible)} UTF-16 units"


def test_hostile_briefs_ingest_and_render_valid_html(hash_engine_factory: Callable[..., Engine], tmp_path: Path,
                                                     figures: Figures) -> None:
    engine = hash_engine_factory()
    files = hostile_files(tmp_path / "hostile")
    report = engine.ingest(files)
    added = {a.id for a in report.added}
    rejected = [str(r) for r in report.rejected]
    records = {r["id"] for r in hostile_records()}
    # every record and file is accounted for: added, or rejected with a reason
    for rid in records:
        assert rid in added or any("hostile.jsonl" in r for r in rejected), rid
    for path in files[1:]:
        assert (any(a.path == str(path) for a in report.added) or any(str(path) in r for r in rejected)
                or any(d.startswith(f"{path}:") for d in report.duplicates)), path
    assert all(len(r.reason) > 5 for r in report.rejected)
    checked = 0
    articles = engine.snapshot.articles(order="seq")
    hostile = [a for a in articles if a.id in added]
    for article in hostile:
        for question in (article.title[:200], "terbium Lynas", article.body[:300]):
            answer, _ = engine.ask(question, 5)
            assert_valid(render_answer(answer), f"answer {article.id}")
            assert_valid(render_sources(answer.citations), f"sources {article.id}")
            for passage in answer.passages:
                assert_valid([render_inline(passage, passage.hit.citation)], f"inline {article.id}")
                chunks = engine.context(passage.hit.chunk_id)
                assert_valid(render_context(1, passage.hit.citation, chunks, passage.hit.chunk.position),
                             f"context {article.id}")
            checked += 1
        brief = _brief(article.id, 1, article.title, article.body, article.highlights, article.source,
                       article.published_at, article.url)
        text, _ = render_alert(brief_info(brief))
        assert_valid([text], f"alert {article.id}")
    infos = [brief_info(_brief(a.id, i, a.title, a.body, a.highlights, a.source, a.published_at, a.url))
             for i, a in enumerate(hostile)]
    assert_valid([render_collection(infos, "Burst")[0]], "collection")
    assert_valid(render_latest(engine.latest(50)), "latest")
    assert_valid(render_corpus(engine.stats()), "corpus")
    figures.add("hostile text: briefs ingested / rejected with a reason", "all accounted for",
                f"{len(added)} / {len(report.rejected)}", COMMAND, rejected=rejected)
    figures.add("hostile text: rendered messages that are invalid Telegram HTML or > 4,096", "0", 0, COMMAND,
                questions=checked)


async def test_hostile_briefs_through_the_bot_and_alerts(bot_api: FakeBotApi, start_bot: Any,
                                                         hash_engine_factory: Callable[..., Engine], tmp_path: Path,
                                                         figures: Figures) -> None:
    engine = hash_engine_factory()
    store = AlertStore(engine.data_dir / "state" / "alerts.sqlite")
    store.subscribe(4001, None)
    store.subscribe(4002, "terbium")
    store.close()
    inbox = engine.data_dir / "inbox"
    files = hostile_files(tmp_path / "drop")
    async with start_bot(engine, BRIEFBOT_POLL_SECONDS=0.3) as app:
        service = app.bot_data["alerts"]
        service.inbox_settle_seconds = 0
        await asyncio.sleep(1.1)  # subscriptions strictly older than the briefs
        inbox.mkdir(parents=True, exist_ok=True)
        for path in files:
            os.replace(path, inbox / path.name)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            counts = service.store.counts()
            if not any(inbox.glob("*.*")) and counts.get("sent") and not counts.get("pending") and not counts.get("sending"):
                break
            await asyncio.sleep(0.1)
        questions = ["<script>alert(1)</script> terbium", "What about the 50,000-character paragraph?",
                     "Hostile links", "😀 emoji storm", "\u202eRTL override", "Quotes and links", "Huge source name"]
        for chat, question in enumerate(questions, 4100):
            reply = await ask_bot(bot_api, chat, question, timeout=15)
            markup = reply.params.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    bot_api.callback_query(chat, reply.result["message_id"], button["callback_data"], user_id=chat)
                    await bot_api.wait_for_request("answerCallbackQuery", timeout=15)
            bot_api.inline_query(question[:256], user_id=chat)
            await bot_api.wait_for_request("answerInlineQuery", timeout=15)
        await asyncio.sleep(1.0)
        counts = service.store.counts()
    alerts = [m for m in bot_api.sent_messages() if m["chat"]["id"] in (4001, 4002)]
    bad = [r for r in bot_api.requests if r.status and r.status >= 400 and r.method != "getUpdates"]
    figures.add("hostile text via bot + alerts: requests Telegram rejected", "0", len(bad), COMMAND,
                alerts=len(alerts), sent=len(bot_api.sent_messages()), outbox=counts)
    assert alerts, "the hostile briefs produced no alert"
    assert not bad, [(r.method, r.response) for r in bad[:5]]
    assert not counts.get("failed")


# --------------------------------------------------------------------------- properties (Hypothesis)

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=600) | st.sampled_from(
    [NASTY, "<b>", "&", "😀" * 500, "\u200b" * 300, "x" * 5000])


@settings(max_examples=scale(60, 600), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_text, body=_text, source=st.none() | _text, url=st.none() | _text.map(lambda s: "https://e.com/" + s),
       n=st.integers(1, 20))
def test_alert_rendering_property(title: str, body: str, source: str | None, url: str | None, n: int) -> None:
    brief = _brief("id", 1, title or "t", body or "b", (), source, date(2025, 9, 25), url)
    info = brief_info(brief)
    assert_valid([render_alert(info)[0]], "alert")
    assert_valid([render_collection([dict(info, id=f"{i}") for i in range(n)], "Heading " + title[:50])[0]],
                 "collection")


@settings(max_examples=scale(60, 600), deadline=None)
@given(title=_text, url=st.none() | _text, source=st.none() | _text, text=_text)
def test_citation_and_split_property(title: str, url: str | None, source: str | None, text: str) -> None:
    citation = Citation("a", title or "t", source, None, None, url, None)
    assert_valid(render_sources([citation]), "sources")
    from bot.messages import esc
    parts = split_html(f"<b>{esc(text)}</b>\n\n" + esc(text * 10), 4096)
    if parts:
        assert_valid(parts, "split")
