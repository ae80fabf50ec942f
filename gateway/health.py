"""Liveness (`/healthz`) and readiness (`/readyz`: every dependency answers)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text

from gateway.keys import channels_key, db_key, http_key, rasa_key, settings_key, state_key

CHECK_TIMEOUT = 3.0


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    app = request.app
    settings = app[settings_key]

    async def database() -> None:
        async with app[db_key]() as session:
            await session.execute(text("SELECT 1"))

    async def rasa() -> None:
        await app[rasa_key].status()

    async def actions() -> None:
        async with app[http_key].get(f"{settings.action_server_url}/health",
                                     timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT)) as r:
            if r.status != 200:
                raise RuntimeError(f"HTTP {r.status}")

    checks: dict[str, Callable[[], Awaitable[None]]] = {
        "database": database, "rasa": rasa, "action_server": actions}
    if settings.redis_url:
        checks["redis"] = app[state_key].ping

    async def run(check: Callable[[], Awaitable[None]]) -> str | None:
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT)
        except Exception as exc:  # any failure means "not ready"; the body names it
            return f"{type(exc).__name__}: {exc}"[:300]
        return None

    results = dict(zip(checks, await asyncio.gather(*(run(c) for c in checks.values())),
                       strict=True))
    down = {name: error for name, error in results.items() if error is not None}
    body: dict[str, Any] = {"status": "ready" if not down else "unavailable",
            "checks": {name: ("ok" if error is None else "down") for name, error in
                       results.items()},
            "channels": sorted(app[channels_key].keys())}
    if down:
        body["down"] = down
    return web.json_response(body, status=200 if not down else 503)
