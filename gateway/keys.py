"""Typed keys for everything the gateway app shares."""

from __future__ import annotations

from aiohttp import ClientSession, web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import Channel
from gateway.handoff import Handoff
from gateway.outbox import Outbox
from gateway.rasa import RasaClient
from gateway.ratelimit import RateLimiter
from gateway.router import Router
from gateway.settings import Settings
from gateway.state import StateStore

settings_key = web.AppKey("settings", Settings)
db_key = web.AppKey("db", async_sessionmaker[AsyncSession])
http_key = web.AppKey("http", ClientSession)
state_key = web.AppKey("state", StateStore)
rasa_key = web.AppKey("rasa", RasaClient)
router_key = web.AppKey("router", Router)
channels_key = web.AppKey("channels", dict[str, Channel])
outbox_key = web.AppKey("outbox", Outbox)
handoff_key = web.AppKey("handoff", Handoff)
ratelimit_key = web.AppKey("ratelimit", RateLimiter)
