"""A local web server for link tests: nothing reaches the internet."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from aiohttp import web

__all__ = ["local_server", "page_server", "ARTICLE_PAGE", "ARTICLE_TITLE"]

Handler = Callable[[web.Request], Awaitable[web.Response]]

ARTICLE_TITLE = "Hafnium exports resume from France"
ARTICLE_PAGE = f"""<html><head><title>{ARTICLE_TITLE}</title></head><body><article>
<h1>{ARTICLE_TITLE}</h1>
<p>Hafnium shipments from the Jarrie plant in France resumed on Monday after a three-week strike ended,
the operator said, easing a squeeze on nuclear control rod makers.</p>
<p>Hafnium prices had risen nine percent during the strike, traders in Rotterdam said on Tuesday.</p>
</article></body></html>"""


@asynccontextmanager
async def local_server(routes: Mapping[str, Handler]) -> AsyncIterator[str]:
    """Serve GET path → handler on 127.0.0.1 (a free port); yields the base URL, stops on exit."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def page_server(pages: Mapping[str, tuple[str, bytes]]) -> AsyncIterator[str]:
    """Serve path → (content type, body) on 127.0.0.1 (404 for anything else); yields the base URL."""

    async def serve(request: web.Request) -> web.Response:
        if request.path not in pages:
            return web.Response(status=404)
        kind, body = pages[request.path]
        return web.Response(body=body, content_type=kind)

    async with local_server({"/{tail:.*}": serve}) as base:
        yield base
