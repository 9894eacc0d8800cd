"""Publishing from Telegram end to end: the real Application long-polling the fake Bot API on 127.0.0.1
(getFile and file downloads included), a local page server for links, the hash embedder."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from aiohttp import web

from bot.sources import publish
from bot.alerts.handlers import install
from bot.sources.publish import (DOWNLOAD_LIMIT, MAX_REDIRECTS, Attachment, NotPublished, Post, document_problem, fetch, removal_keys,
                         safe_file_name, single_link, title_and_body)
from bot.sources.handlers import DOCUMENTS_REFUSED, REMOVE_ADMIN_ONLY
from index.engine import Engine
from index.parse import SUPPORTED_SUFFIXES
from index.store import current_folder
from tests.conftest import ask_bot
from tests.fakebotapi import FakeBotApi, utf16_len
from tests.pages import ARTICLE_PAGE, ARTICLE_TITLE, local_server, page_server
from tests.test_alerts import FAST, alerts_to, make_config, until

ADMIN = 7
CHANNEL, OTHER_CHANNEL = -1001500000001, -1001500000099
POLL = 1.0
SCANDIUM_TITLE = "Scandium refinery opens in Norway"
SCANDIUM = ("The first scandium refinery in Europe started production near Oslo on Tuesday. "
            "Scandium oxide from the Norwegian plant goes to aluminium alloy makers, the company said.\n\n"
            "Output is planned at twenty tonnes of scandium oxide a year by 2027.")
GALLIUM = ("Gallium plant in Kazakhstan doubles capacity\n\nA gallium recovery plant at Pavlodar doubled its "
           "capacity after a new line came online, the operator said. Gallium goes to chip makers in Korea.")


def bold_title(text: str, title: str) -> list[dict[str, Any]]:
    return [{"type": "bold", "offset": 0, "length": utf16_len(title)}] if text.startswith(title) else []


def replies(fake: FakeBotApi, chat_id: int) -> list[str]:
    return [m["text"] for m in fake.sent_messages(chat_id)]


async def say(fake: FakeBotApi, chat_id: int, text: str) -> Any:
    reply = await ask_bot(fake, chat_id, text)
    assert reply.ok, reply.response
    return reply


async def send_document(fake: FakeBotApi, chat_id: int, document: dict[str, Any]) -> Any:
    fake.document_message(chat_id, document)
    reply = await fake.wait_for_request("sendMessage", lambda r: r.params.get("chat_id") == chat_id, 20)
    assert reply.ok, reply.response
    return reply


def downloads(fake: FakeBotApi) -> list[str]:
    return [r.params["file_id"] for r in fake.requests if r.method == "getFile"]


def article_count(engine: Engine) -> int:
    return Engine(engine.data_dir, embedder=engine.embedder).stats().articles


# --------------------------------------------------------------------------- channels


async def test_channel_post_is_alerted_once_answered_with_its_link_and_edits_replace_it(
        bot_api: FakeBotApi, start_bot: Any, hash_engine_factory: Callable[..., Engine]) -> None:
    fake, engine = bot_api, hash_engine_factory()
    fake.channel(CHANNEL, "Metals Desk", "MetalsDesk")
    fake.channel(OTHER_CHANNEL, "Someone Else")
    async with start_bot(engine, BRIEFBOT_SOURCE_CHANNELS="@metalsdesk", BRIEFBOT_POLL_SECONDS=str(POLL)) as app:
        for chat, topic in ((201, "scandium"), (202, ""), (203, "lithium brine in Chile")):
            await say(fake, chat, f"/subscribe {topic}".strip())
        await asyncio.sleep(1.1)  # subscriptions strictly older than the brief
        text = f"{SCANDIUM_TITLE}\n{SCANDIUM}"
        post = fake.channel_post(CHANNEL, text, entities=bold_title(text, SCANDIUM_TITLE))
        fake.channel_post(OTHER_CHANNEL, "Scandium refinery news from a channel nobody listed. " * 3)
        posted = time.monotonic()
        await until(lambda: bool(alerts_to(fake, 201) and alerts_to(fake, 202)), POLL + 5)
        assert time.monotonic() - posted < POLL + 5
        message_id = post["channel_post"]["message_id"]
        link = f"https://t.me/MetalsDesk/{message_id}"
        alert = alerts_to(fake, 201)[0]
        assert SCANDIUM_TITLE in alert["text"] and "Metals Desk" in alert["text"]
        assert any(e.get("url") == link for e in alert["entities"])  # "Read the brief" → the post

        answer = await say(fake, 301, "What happened with the scandium refinery near Oslo?")
        assert link in answer.params["text"] and SCANDIUM_TITLE in answer.result["text"]
        brief = engine.article(f"tg:{CHANNEL}:{message_id}")
        assert brief and (brief.source, brief.url, brief.title) == ("Metals Desk", link, SCANDIUM_TITLE)
        assert brief.published_at == datetime.fromtimestamp(post["channel_post"]["date"], timezone.utc).date()
        assert engine.article(f"tg:{OTHER_CHANNEL}:1") is None  # not a source channel

        fake.edit_channel_post(CHANNEL, message_id, GALLIUM)
        await until(lambda: "Pavlodar" in ((engine.article(brief.id) or brief).body), 10)
        edited = await say(fake, 302, "What happened at the gallium plant in Kazakhstan?")
        assert link in edited.params["text"] and "Gallium plant in Kazakhstan" in edited.result["text"]
        before = await say(fake, 303, "What happened with the scandium refinery near Oslo?")
        assert link not in before.params["text"]
        service = app.bot_data["alerts"]
        for _ in range(3):  # a few more alert cycles: the edit must not alert anyone again
            await service.cycle()
        await asyncio.sleep(POLL + 0.5)
    assert len(alerts_to(fake, 201)) == 1 and len(alerts_to(fake, 202)) == 1
    assert alerts_to(fake, 203) == []  # off topic


async def test_a_rejected_channel_post_is_reported_to_the_operators(bot_api: FakeBotApi, start_bot: Any,
                                                                    hash_engine_factory: Callable[..., Engine]) -> None:
    fake, engine = bot_api, hash_engine_factory()
    fake.channel(CHANNEL, "Metals Desk")
    async with start_bot(engine, BRIEFBOT_SOURCE_CHANNELS=str(CHANNEL), BRIEFBOT_ADMIN_IDS=f"{ADMIN + 1},{ADMIN}"):
        fake.block_chat(ADMIN + 1)  # one operator cannot be reached: the others still hear of it
        post = fake.channel_post(CHANNEL, "Worth a read: http://10.0.0.7/hafnium")
        report = await fake.wait_for_request("sendMessage", lambda r: r.params.get("chat_id") == ADMIN)
    link = f"https://t.me/c/1500000001/{post['channel_post']['message_id']}"
    assert report.result["text"].startswith(f"❌ Not added: {link}") and "private network (10.0.0.7)" in report.result["text"]
    assert article_count(engine) == 2


async def test_channel_link_photo_and_document_posts(bot_api: FakeBotApi, start_bot: Any,
                                                     hash_engine_factory: Callable[..., Engine]) -> None:
    fake, engine = bot_api, hash_engine_factory()
    fake.channel(CHANNEL, "Metals Desk")  # private: links are t.me/c/…
    async with page_server({"/hafnium": ("text/html", ARTICLE_PAGE.encode())}) as site:
        async with start_bot(engine, BRIEFBOT_SOURCE_CHANNELS=str(CHANNEL), BRIEFBOT_PUBLISH_PRIVATE_LINKS="true"):
            link_post = fake.channel_post(CHANNEL, f"Worth a read: {site}/hafnium")
            photo = fake.channel_post(CHANNEL, caption="Terbium magnets shipped from Vietnam to Germany this week, "
                                      "the exporter said, ending a month of delays at the port.", photo=True)
            document = fake.add_file(b"Yttrium output at Lynas\n\nYttrium output at the Lynas plant rose eleven "
                                     b"percent in the quarter, the company said on Friday.", "yttrium.txt", "text/plain")
            doc_post = fake.channel_post(CHANNEL, document=document, caption="Quarterly note")
            fake.channel_post(CHANNEL, photo=True)  # nothing to read
            ids = [f"tg:{CHANNEL}:{u['channel_post']['message_id']}" for u in (link_post, photo, doc_post)]
            await until(lambda: all(engine.article(i) for i in ids), 15)
    hafnium, terbium, yttrium = (engine.article(i) for i in ids)
    assert hafnium and hafnium.title == ARTICLE_TITLE and "Jarrie" in hafnium.body
    assert hafnium.url == f"https://t.me/c/1500000001/{link_post['channel_post']['message_id']}"
    assert terbium and "Vietnam" in terbium.body and yttrium and yttrium.title == "Yttrium output at Lynas"
    assert {a.source for a in (hafnium, terbium, yttrium)} == {"Metals Desk"}  # type: ignore[union-attr]
    assert downloads(fake) == [document["file_id"]]


# --------------------------------------------------------------------------- operators in private chat


async def test_admin_document_is_ingested_answered_and_alerted_others_are_refused(
        bot_api: FakeBotApi, start_bot: Any, hash_engine_factory: Callable[..., Engine]) -> None:
    fake, engine = bot_api, hash_engine_factory()
    uploads = engine.data_dir / "articles" / "telegram" / "uploads"
    brief = {"title": "Niobium prices climb in Brazil", "published_at": datetime.now(timezone.utc).date().isoformat(),
             "body": "Niobium prices rose four percent in Brazil after CBMM cut shipments, traders said on Monday. "
                     "Steel makers in Asia are the main buyers of niobium."}
    async with start_bot(engine, BRIEFBOT_ADMIN_IDS=str(ADMIN), BRIEFBOT_POLL_SECONDS=str(POLL)):
        await say(fake, 401, "/subscribe niobium")
        await asyncio.sleep(1.1)
        refused = fake.add_file(json.dumps(brief).encode(), "niobium.json", "application/json")
        reply = await send_document(fake, 8, refused)
        assert reply.result["text"] == DOCUMENTS_REFUSED
        assert downloads(fake) == [] and not uploads.exists() and article_count(engine) == 2

        document = fake.add_file(json.dumps(brief).encode(), "niobium.json", "application/json")
        reply = (await send_document(fake, ADMIN, document)).result["text"]
        assert reply.startswith("✅ Added “Niobium prices climb in Brazil”") and "1 subscribed chat will be alerted" in reply
        await until(lambda: bool(alerts_to(fake, 401)), POLL + 5)
        answer = await say(fake, 402, "What happened to niobium prices in Brazil?")
        assert "Niobium prices climb in Brazil" in answer.result["text"]
        again = (await send_document(fake, ADMIN, fake.add_file(json.dumps(brief).encode(), "copy.json"))).result["text"]
        assert again.startswith("Already indexed")
    assert [p.name for p in uploads.iterdir()] == ["niobium.json"]  # the duplicate was not kept
    assert len(alerts_to(fake, 401)) == 1


async def test_damaged_and_oversized_files_get_their_reason_and_change_nothing(
        bot_api: FakeBotApi, start_bot: Any, hash_engine_factory: Callable[..., Engine]) -> None:
    fake, engine = bot_api, hash_engine_factory()
    generation = current_folder(engine.data_dir)
    cases = [
        (fake.add_file(b'{"title": "x", "body": ', "broken.json", "application/json"), "invalid JSON"),
        (fake.add_file(bytes(range(256)) * 40, "scan.txt", "text/plain"), "binary file"),
        (fake.add_file(b"", "empty.md", "text/markdown"), "empty file"),
        (fake.add_file(b"<html><body><nav>Home</nav></body></html>", "menu.html", "text/html"), "no article text"),
        (fake.add_file(b"PK\x03\x04 zip", "report.docx"), "'.docx' files are not read"),
        (fake.add_file(b"big", "huge.txt", "text/plain", declared_size=DOWNLOAD_LIMIT + 5 * 2**20),
         "Telegram lets bots download files up to 20 MB"),
    ]
    async with start_bot(engine, BRIEFBOT_ADMIN_IDS=str(ADMIN)):
        for document, reason in cases:
            reply = (await send_document(fake, ADMIN, document)).result["text"]
            assert reply.startswith("❌ Not added") and reason in reply, reply
    assert set(downloads(fake)) == {d["file_id"] for d, _ in cases[:4]}  # no attempt for the last two
    assert current_folder(engine.data_dir) == generation  # the index is unchanged
    assert not any((engine.data_dir / "articles" / "telegram" / "uploads").iterdir())


async def test_admin_link_is_published_a_non_admins_link_is_a_question(
        bot_api: FakeBotApi, start_bot: Any, hash_engine_factory: Callable[..., Engine]) -> None:
    fake, engine = bot_api, hash_engine_factory()
    async with page_server({"/hafnium": ("text/html", ARTICLE_PAGE.encode()), "/pic": ("image/png", b"\x89PNG")}) as site:
        async with start_bot(engine, BRIEFBOT_ADMIN_IDS=str(ADMIN)):  # by default only public addresses are fetched
            refused = (await say(fake, ADMIN, f"{site}/hafnium")).result["text"]
        assert "Not added" in refused and "private network (127.0.0.1)" in refused and article_count(engine) == 2
        async with start_bot(engine, BRIEFBOT_ADMIN_IDS=str(ADMIN), BRIEFBOT_PUBLISH_PRIVATE_LINKS="true"):
            question = await say(fake, 9, f"{site}/hafnium")
            assert "Added" not in question.result["text"] and article_count(engine) == 2
            added = (await say(fake, ADMIN, f"{site}/hafnium")).result["text"]
            assert added.startswith(f"✅ Added “{ARTICLE_TITLE}”"), added
            assert "Not added" in (await say(fake, ADMIN, f"{site}/pic")).result["text"]
            assert "HTTP 404" in (await say(fake, ADMIN, f"{site}/gone")).result["text"]
            answer = await say(fake, 9, "Why did hafnium shipments from France stop?")
    assert ARTICLE_TITLE in answer.result["text"]
    assert f"{site}/hafnium" in answer.params["text"]  # cited with the page's link


async def test_remove_takes_a_brief_out_for_admins_only(bot_api: FakeBotApi, start_bot: Any,
                                                        hash_engine_factory: Callable[..., Engine]) -> None:
    fake, engine = bot_api, hash_engine_factory()
    fake.channel(CHANNEL, "Metals Desk", "MetalsDesk")
    async with start_bot(engine, BRIEFBOT_SOURCE_CHANNELS="@MetalsDesk", BRIEFBOT_ADMIN_IDS=str(ADMIN)):
        post = fake.channel_post(CHANNEL, GALLIUM)
        brief_id = f"tg:{CHANNEL}:{post['channel_post']['message_id']}"
        await until(lambda: engine.article(brief_id) is not None, 10)
        link = f"https://t.me/MetalsDesk/{post['channel_post']['message_id']}"
        assert (await say(fake, 9, f"/remove {link}")).result["text"] == REMOVE_ADMIN_ONLY
        assert engine.article(brief_id) is not None
        removed = (await say(fake, ADMIN, f"/remove {link.replace('https://', '')}")).result["text"]
        assert removed.startswith("🗑 Removed “Gallium plant in Kazakhstan doubles capacity”"), removed
        assert "Nothing in the index matches" in (await say(fake, ADMIN, f"/remove {brief_id}")).result["text"]
        answer = await say(fake, 9, "What happened at the gallium plant in Kazakhstan?")
        fake.edit_channel_post(CHANNEL, post["channel_post"]["message_id"], GALLIUM + " Updated.")
        await asyncio.sleep(1.0)
    assert link not in answer.params["text"] and engine.article(brief_id) is None  # an edit does not bring it back


def test_removed_briefs_unsent_alerts_are_withdrawn(fake_bot_api: FakeBotApi,
                                                    hash_engine_factory: Callable[..., Engine], tmp_path: Path) -> None:
    engine = hash_engine_factory()
    config = make_config(engine.data_dir)
    service = install(fake_bot_api.application_builder().build(), engine, config, pacing=FAST, inbox_settle_seconds=0)
    service.store.subscribe(501, None, now=time.time() - 10)
    service.store.subscribe(502, None, now=time.time() - 10)
    service.store.set_digest(502, "08:00", "UTC")
    post = tmp_path / "post.json"
    post.write_text(json.dumps({"id": "tg:-1:1", "title": "Gallium plant doubles capacity", "body": GALLIUM,
                                "published_at": "2025-09-25"}), encoding="utf-8")
    engine.publish([post])
    assert service.enqueue_new_sync()["new_briefs"] == 1 and service.store.audience(["tg:-1:1"]) == 2
    assert [r.kind for r in service.store.outbox_rows("pending")] == ["alert"]
    assert asyncio.run(service.withdraw(["tg:-1:1"])) == 2
    assert service.store.outbox_rows("pending") == [] and service.store.waiting_for_digest(502) == []
    assert service.store.audience(["tg:-1:1"]) == 0 and service.store.button_article(
        service.store.outbox_rows("cancelled")[0].markup["inline_keyboard"][0][0]["callback_data"][10:]) is None  # type: ignore[index]


# --------------------------------------------------------------------------- policy


@pytest.mark.parametrize(("text", "bold", "title", "body"), [
    ("Title line\nBody one.\nBody two.", None, "Title line", "Body one.\nBody two."),
    ("Bold lead: the rest of the first line.\nMore.", "Bold lead", "Bold lead", "the rest of the first line.\nMore."),
    ("One paragraph only. It has two sentences.", None, "One paragraph only.", "One paragraph only. It has two sentences."),
    ("  Padded title  \n\n  body  ", None, "Padded title", "body"),
    ("Bold that is not first\nbody", "body", "Bold that is not first", "body"),
])
def test_title_and_body(text: str, bold: str | None, title: str, body: str) -> None:
    assert title_and_body(text, bold) == (title, body)


@pytest.mark.parametrize(("text", "links", "found"), [
    ("https://example.com/a", ["https://example.com/a"], "https://example.com/a"),
    ("Read this", ["https://example.com/a"], "https://example.com/a"),  # a text_link
    ("example.com/story", ["example.com/story"], "http://example.com/story"),
    ("Two https://a.com/x https://b.com/y", ["https://a.com/x", "https://b.com/y"], None),
    ("write to me", ["mailto:me@example.com"], None),
    (" ".join(["word"] * 13) + " https://a.com/x", ["https://a.com/x"], None),  # a text post with a link
])
def test_single_link(text: str, links: list[str], found: str | None) -> None:
    assert single_link(text, links) == found


def test_file_names_ids_links_and_limits() -> None:
    assert safe_file_name("../../etc/passwd", None) == "passwd"
    assert safe_file_name("Q3 report (final).PDF", None) == "Q3_report_final.pdf"
    assert safe_file_name(None, "application/json") == "document.json"
    assert safe_file_name("..\\..\\x.txt", None) == "x.txt"
    assert removal_keys(" t.me/MetalsDesk/12?single ") == ["t.me/MetalsDesk/12?single", "https://t.me/MetalsDesk/12"]
    assert removal_keys("tg:-1001:5") == ["tg:-1001:5"]
    post = Post(-1001234567890, 5, datetime(2025, 9, 25, tzinfo=timezone.utc), "x")
    assert (post.brief_id, post.link) == ("tg:-1001234567890:5", "https://t.me/c/1234567890/5")
    big = Attachment("f", "big.txt", DOWNLOAD_LIMIT + 1)
    assert "up to 20 MB" in (document_problem(big, SUPPORTED_SUFFIXES) or "")
    assert document_problem(Attachment("f", "ok.md", 10), SUPPORTED_SUFFIXES) is None
    assert "'.pdf' files are not read" in (document_problem(Attachment("f", "a.pdf", 10), frozenset({".txt"})) or "")


async def test_pdf_documents_from_operators_and_channels(bot_api: FakeBotApi, start_bot: Any,
                                                          hash_engine_factory: Callable[..., Engine]) -> None:
    from tests.pdfgen import TITLE, make_pdf, scanned_pdf

    fake, engine = bot_api, hash_engine_factory()
    fake.channel(CHANNEL, "Metals Desk", "MetalsDesk")
    async with start_bot(engine, BRIEFBOT_ADMIN_IDS=str(ADMIN), BRIEFBOT_SOURCE_CHANNELS="@MetalsDesk"):
        added = (await send_document(fake, ADMIN, fake.add_file(make_pdf(), "brief.pdf", "application/pdf"))).result
        assert added["text"].startswith(f"✅ Added “{TITLE}”"), added["text"]
        scanned = (await send_document(fake, ADMIN, fake.add_file(scanned_pdf(), "scan.pdf", "application/pdf"))).result
        assert scanned["text"].startswith("❌ Not added"), scanned["text"]
        engine.remove([a.id for a in engine.latest(10) if a.title == TITLE])  # so the channel's copy is new
        post = fake.channel_post(CHANNEL, document=fake.add_file(make_pdf(), None, "application/pdf"))
        brief_id = f"tg:{CHANNEL}:{post['channel_post']['message_id']}"
        await until(lambda: engine.article(brief_id) is not None, 15)
    brief = engine.article(brief_id)
    assert brief and brief.title == TITLE and brief.url == f"https://t.me/MetalsDesk/{post['channel_post']['message_id']}"


@pytest.mark.parametrize("url", ["http://127.0.0.1/a", "http://10.1.2.3/a", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]:8080/a", "http://localhost:9/a", "http://0.0.0.0/a"])
async def test_links_into_private_networks_are_not_fetched(url: str) -> None:
    with pytest.raises(NotPublished, match="private network"):
        await fetch(url, timeout=5)


async def test_redirects_are_followed_a_few_times_and_each_hop_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = {"/hafnium": ("text/html", ARTICLE_PAGE.encode())}

    async def moved(request: web.Request) -> web.Response:
        hops = int(request.match_info["n"])
        raise web.HTTPFound("/hafnium" if hops == 0 else f"/moved/{hops - 1}")

    async def metadata(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    async with local_server({"/moved/{n}": moved, "/to-metadata": metadata, "/hafnium": _serve(pages)}) as site:
        body, suffix = await fetch(f"{site}/moved/2", private_ok=True)
        assert suffix == ".html" and ARTICLE_TITLE.encode() in body
        with pytest.raises(NotPublished, match="redirects more than"):
            await fetch(f"{site}/moved/{MAX_REDIRECTS}", private_ok=True)
        checked = publish._private
        monkeypatch.setattr(publish, "_private", lambda address: address != "127.0.0.1" and checked(address))
        with pytest.raises(NotPublished, match=r"private network \(169\.254\.169\.254\)"):  # the local site passes as public
            await fetch(f"{site}/to-metadata")


def _serve(pages: dict[str, tuple[str, bytes]]) -> Any:
    async def serve(request: web.Request) -> web.Response:
        kind, body = pages[request.path]
        return web.Response(body=body, content_type=kind)
    return serve
