"""Feeds served from 127.0.0.1: ETag/304, summary-only entries fetched with trafilatura, failing feeds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from index.engine import Engine
from tests.fakebotapi import FakeBotApi
from tests.pages import local_server
from tests.test_alerts import alerts_to, make_config, running_bot, settle, until

ARTICLE_PAGE = """<html><head><title>Lynas expands Kalgoorlie</title></head><body>
<nav>Home | Markets | About</nav>
<article><h1>Lynas expands its Kalgoorlie cracking plant</h1>
<p>Lynas Rare Earths said on Thursday that it will expand the Kalgoorlie cracking and leaching plant in Western
Australia, adding capacity for mixed rare earth carbonate that is then shipped to Malaysia for separation.</p>
<p>The company said the expansion will cost about 500 million Australian dollars and should be finished in 2027,
lifting output of neodymium and praseodymium by a third. Engineers have begun site works and ordered kilns.</p>
<p>Analysts said the expansion strengthens the only large heavy rare earth supply chain outside China and that
Japanese magnet makers are expected to sign further offtake agreements with the company next year.</p>
</article><footer>Copyright</footer></body></html>"""


def rss(base: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Metals Wire</title><link>{base}/</link><description>test</description>
<item><title>Terbium prices rise on tight supply</title><link>{base}/terbium</link><guid>wire-1</guid>
<pubDate>Thu, 25 Sep 2025 08:00:00 GMT</pubDate>
<content:encoded><![CDATA[<p>Terbium oxide prices rose for a third week as Chinese separators limited sales and
magnet makers in Japan and Europe bought ahead of winter. Traders said spot cargoes were scarce and that
export licences were taking longer to obtain, pushing buyers toward long-term contracts with fixed volumes.
Several magnet plants reported inventories below one month of production and said they were testing
designs that need less of the heavy rare earth to keep motors stable at high temperature in vehicles.
The price gap between Chinese domestic and export terbium widened to its largest level this year as well.</p>]]>
</content:encoded></item>
<item><title>Lynas expands its Kalgoorlie cracking plant</title><link>{base}/lynas</link><guid>wire-2</guid>
<pubDate>Thu, 25 Sep 2025 09:00:00 GMT</pubDate><description>Lynas to expand Kalgoorlie.</description></item>
</channel></rss>"""


async def test_feed_with_etag_and_summary_only_entry(fake_bot_api: FakeBotApi,
                                                     hash_engine_factory: Callable[..., Engine]) -> None:
    hits: list[tuple[str, str | None, int]] = []

    async def feed(request: web.Request) -> web.Response:
        etag = '"v1"'
        if request.headers.get("If-None-Match") == etag:
            hits.append(("feed", request.headers.get("If-None-Match"), 304))
            return web.Response(status=304, headers={"ETag": etag})
        hits.append(("feed", None, 200))
        return web.Response(text=rss(base), content_type="application/rss+xml", headers={"ETag": etag})

    async def page(request: web.Request) -> web.Response:
        hits.append((request.path, None, 200))
        return web.Response(text=ARTICLE_PAGE, content_type="text/html")

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    async with local_server({"/feed.xml": feed, "/lynas": page, "/broken.xml": broken}) as base:
        engine = hash_engine_factory()
        config = make_config(engine.data_dir, BRIEFBOT_FEEDS=f"{base}/feed.xml, {base}/broken.xml",
                             BRIEFBOT_ADMIN_IDS="9001")
        fake = fake_bot_api
        async with running_bot(fake, engine, config) as (app, service):
            service.store.subscribe(801, None)
            await asyncio.sleep(1.1)
            await until(lambda: len(alerts_to(fake, 801)) == 2, 15)
            await settle(service, 3)
            texts = [m["text"] for m in alerts_to(fake, 801)]
            assert any("Terbium prices rise" in t and "Metals Wire" in t and "25 Sep 2025" in t for t in texts)
            lynas = next(t for t in texts if "Kalgoorlie" in t)
            assert "500 million" in lynas or "cracking" in lynas  # extracted from the page, not the summary
            assert ("feed", '"v1"', 304) in hits  # the second poll was conditional and got 304
            assert [h for h in hits if h[0] == "/lynas"] == [("/lynas", None, 200)]  # page fetched once
            # the failing feed: backed off, and the admin told once per streak
            state = service.store.feed_state(f"{base}/broken.xml")
            assert state.failures >= 1 and state.reported and state.next_poll_at > 0
            service.store._run("UPDATE feeds SET next_poll_at = 0 WHERE url = ?", [f"{base}/broken.xml"])
            await settle(service, 2)
            assert service.store.feed_state(f"{base}/broken.xml").failures >= 2
            admin = [m for m in fake.sent_messages(9001) if "Feed failing" in m["text"]]
            assert len(admin) == 1
        stored = list((engine.data_dir / "articles").glob("feed-*.json"))
        assert len(stored) == 2
        assert len(alerts_to(fake, 801)) == 2


def test_feed_file_is_complete_json(tmp_path: Path) -> None:
    from bot.sources.feeds import FeedPoller
    from bot.alerts.store import AlertStore

    poller = FeedPoller(AlertStore(tmp_path / "a.sqlite"), tmp_path / "inbox", 60)
    path = poller._write("feed-x.json", {"id": "x", "title": "t", "body": "b"})
    assert path.read_text().startswith("{") and not list((tmp_path / "inbox").glob(".*"))


async def test_pdf_entries_are_downloaded_into_the_inbox_as_pdf(tmp_path: Path,
                                                               hash_engine_factory: Callable[..., Engine]) -> None:
    from bot.sources.feeds import FeedPoller
    from bot.sources.inbox import process_inbox
    from bot.alerts.store import AlertStore
    from tests.pdfgen import BODY, PdfSpec, make_pdf

    briefs = {"/brief": make_pdf(PdfSpec(title="Terbium Brief for the Third Quarter", paragraphs=BODY[:5])),
              "/files/report.pdf": make_pdf(PdfSpec(title="Kalgoorlie Report on Cracking Capacity", paragraphs=BODY[5:]))}

    async def feed(request: web.Request) -> web.Response:
        return web.Response(text=f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>
<title>Briefs</title><link>{base}/</link><description>pdfs</description>
<item><title>Terbium brief</title><guid>pdf-1</guid><link>{base}/terbium-page</link>
<enclosure url="{base}/brief" type="application/pdf" length="1"/></item>
<item><title>Kalgoorlie report</title><guid>pdf-2</guid><link>{base}/files/report.pdf</link></item>
<item><title>Lynas expands its Kalgoorlie cracking plant</title><guid>html-1</guid><link>{base}/lynas</link>
<description>Lynas to expand Kalgoorlie.</description></item>
</channel></rss>""", content_type="application/rss+xml")

    async def pdf(request: web.Request) -> web.Response:
        return web.Response(body=briefs[request.path], content_type="application/pdf")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=ARTICLE_PAGE, content_type="text/html")

    async with local_server({"/feed.xml": feed, "/brief": pdf, "/files/report.pdf": pdf, "/lynas": page}) as base:
        inbox = tmp_path / "inbox"
        poller = FeedPoller(AlertStore(tmp_path / "alerts.sqlite"), inbox, 60)
        [result] = await poller.poll([f"{base}/feed.xml"])
    assert result.error is None
    assert sorted(p.suffix for p in result.written) == [".json", ".pdf", ".pdf"]
    assert {p.read_bytes() for p in result.written if p.suffix == ".pdf"} == set(briefs.values())
    engine = hash_engine_factory([])
    added = process_inbox(engine, inbox, tmp_path / "articles", settle_seconds=0).added
    assert sorted(a.title for a in added) == ["Kalgoorlie Report on Cracking Capacity",
                                              "Lynas expands its Kalgoorlie cracking plant",
                                              "Terbium Brief for the Third Quarter"]
