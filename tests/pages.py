"""A local web server for link tests: nothing reaches the internet."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from aiohttp import web

__all__ = ["page_server", "ARTICLE_PAGE", "ARTICLE_TITLE"]

ARTICLE_TITLE = "Hafnium exports resume from France"
ARTICLE_PAGE = f"""<html><head><title>{ARTICLE_TITLE}</title></head><body><article>
<h1>{ARTICLE_TITLE}</h1>
<p>Hafnium shipments from the Jarrie plant in France resumed on Monday after a three-week strike ended,
the operator said, easing a squeeze on nuclear control rod makers.</p>
<p>Hafnium prices had risen nine percent during the strike, traders in Rotterdam said on Tuesday.</p>
</article></body></html>"""


@asynccontextmanager
async def page_server(pages: Mapping[str, tuple[str, bytes]]) -> AsyncIterator[str]:
    """Serve path → (content type, body) on 127.0.0.1 (404 for anything else); yields the base URL."""

    async def serve(request: web.Request) -> web.Response:
        if request.path not in pages:
            return web.Response(status=404)
        kind, body = pages[request.path]
        return web.Response(body=body, content_type=kind)

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
