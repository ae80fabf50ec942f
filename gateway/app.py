"""The gateway application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from casedb.engine import create_engine, session_factory
from connectors.base import Channel, OutboundMessage
from connectors.registry import platform_channels
from connectors.web import WebChannel
from connectors.web.tokens import SessionTokens
from gateway.console import Console
from gateway.console.auth import Sessions
from gateway.handoff import Handoff
from gateway.health import healthz, readyz
from gateway.keys import (
    channels_key,
    db_key,
    handoff_key,
    http_key,
    outbox_key,
    rasa_key,
    ratelimit_key,
    router_key,
    settings_key,
    state_key,
)
from gateway.logs import turn_middleware
from gateway.metrics import metrics_handler
from gateway.outbox import Outbox
from gateway.rasa import RasaClient
from gateway.ratelimit import create_rate_limiter
from gateway.router import Router
from gateway.scheduler import ReminderNotice, ReminderScheduler, run_retention_forever
from gateway.settings import Settings, SettingsError
from gateway.state import create_state

CONSOLE_SESSION_TTL = 8 * 3600  # a console sign-in lasts one working day


def create_app(settings: Settings) -> web.Application:
    """Build the app; every resource is opened in a cleanup context, none at construction."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[settings_key] = settings
    app.middlewares.append(turn_middleware)  # first: every later log line has the turn id
    app.cleanup_ctx.append(_resources)
    app.cleanup_ctx.append(_reminders)
    app.cleanup_ctx.append(_outbox_retries)
    app.cleanup_ctx.append(_retention)
    app.cleanup_ctx.append(_handoff_timeouts)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_handler)
    Console(Sessions(settings.web_session_secret, CONSOLE_SESSION_TTL)).register(app)
    try:
        platforms = platform_channels(settings.channel_env)
    except ValueError as exc:
        raise SettingsError(str(exc)) from exc
    web_channel = WebChannel(SessionTokens(settings.web_session_secret, settings.web_session_ttl),
                             settings.max_text_chars)
    channels: dict[str, Channel] = {web_channel.name: web_channel,
                                    **{channel.name: channel for channel in platforms}}
    for channel in channels.values():
        channel.register(app)
    app[channels_key] = channels
    return app


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    engine = create_engine(settings.database_url, schema=settings.database_schema)
    state = create_state(settings.redis_url, settings.redis_prefix)
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
    app[db_key] = session_factory(engine)
    app[state_key] = state
    app[http_key] = http
    app[ratelimit_key] = create_rate_limiter(settings.redis_url, settings.redis_prefix)
    # A replica taking over waits for the dead one's lock ticket to expire (gateway/rasa.py;
    # with a single Rasa there is nobody to take over, so no wait).
    app[rasa_key] = RasaClient(http, settings.rasa_url, settings.rasa_token,
                               settings.rasa_timeout,
                               takeover_delay=settings.rasa_lock_lifetime + 1)
    app[router_key] = Router(app[db_key], state, app[rasa_key], settings.dedup_ttl)
    channels: dict[str, Channel] = app[channels_key]
    app[outbox_key] = Outbox(app[db_key], channels, max_attempts=settings.outbox_max_attempts)
    app[handoff_key] = Handoff(app[db_key], state, app[outbox_key])
    app[router_key].handoff = app[handoff_key]
    try:
        yield
    finally:
        for channel in app[channels_key].values():
            await channel.close()
        await http.close()
        await app[ratelimit_key].close()
        await state.close()
        await engine.dispose()


async def _reminders(app: web.Application) -> AsyncIterator[None]:
    """Booking reminders in the background; several gateways may run it (claims are atomic)."""
    settings = app[settings_key]
    if not settings.reminders_enabled:
        yield
        return
    outbox = app[outbox_key]

    async def send(notice: ReminderNotice) -> None:
        await outbox.deliver(notice.channel, notice.external_id,
                             [OutboundMessage(text=notice.text)])

    stop = asyncio.Event()
    scheduler = ReminderScheduler(app[db_key], send, interval_s=settings.reminder_interval)
    task = asyncio.create_task(scheduler.run_forever(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def _handoff_timeouts(app: web.Application) -> AsyncIterator[None]:
    """Queued chats nobody claimed in time become callback requests (claims are atomic, so
    several gateways may run this)."""
    stop = asyncio.Event()
    task = asyncio.create_task(app[handoff_key].run_timeouts(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def _outbox_retries(app: web.Application) -> AsyncIterator[None]:
    """Send again what a platform did not accept (rows are claimed atomically, so several
    gateways may run this)."""
    stop = asyncio.Event()
    task = asyncio.create_task(app[outbox_key].run_forever(
        stop, interval_s=app[settings_key].outbox_interval))
    try:
        yield
    finally:
        stop.set()
        await task


async def _retention(app: web.Application) -> AsyncIterator[None]:
    """Delete message logs past the retention period (RETENTION_DAYS), open cases kept."""
    settings = app[settings_key]
    stop = asyncio.Event()
    task = asyncio.create_task(run_retention_forever(
        app[db_key], days=settings.retention_days, interval_s=settings.retention_interval,
        stop=stop))
    try:
        yield
    finally:
        stop.set()
        await task
