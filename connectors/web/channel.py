"""Web channel handlers (the contract in README.md, "Web channel")."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from redis.exceptions import RedisError

from connectors.base import Channel, InboundMessage, OutboundMessage
from connectors.platform import RETRY_AFTER_SECONDS, clean_text
from connectors.web.tokens import InvalidToken, SessionTokens
from gateway.keys import ratelimit_key, router_key, settings_key, state_key
from gateway.ratelimit import Limits, RateLimiter
from gateway.replies import reply
from gateway.router import Router
from gateway.state import StateStore

log = logging.getLogger("connectors.web")

STATIC = Path(__file__).parent / "static"
MAX_CLIENT_MESSAGE_ID = 64
MAX_WS_MESSAGE_BYTES = 4096  # the client never sends anything that matters on the socket


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


class WebChannel(Channel):
    name = "web"

    _router: Router
    _state: StateStore
    _limiter: RateLimiter
    _limits: Limits

    def __init__(self, tokens: SessionTokens, max_text_chars: int = 2000) -> None:
        self._tokens = tokens
        self._max_text_chars = max_text_chars

    def register(self, app: web.Application) -> None:
        app.router.add_get("/", self.index)
        app.router.add_post("/channels/web/sessions", self.create_session)
        app.router.add_post("/channels/web/messages", self.post_message)
        app.router.add_get("/channels/web/ws", self.websocket)
        app.on_startup.append(self._bind)  # runs after the app's resources are open

    async def _bind(self, app: web.Application) -> None:
        self._router = app[router_key]
        self._state = app[state_key]
        self._limiter = app[ratelimit_key]
        settings = app[settings_key]
        self._limits = Limits(per_sender=settings.rate_limit_sender,
                              per_ip=settings.rate_limit_ip)

    async def _over_limit(self, request: web.Request,
                          session_id: str | None = None) -> web.Response | None:
        """429 with a polite Chinese reply when this IP (or session) sends too fast."""
        allowed = await self._limiter.allow(f"ip:{request.remote}", self._limits.per_ip)
        if allowed and session_id is not None:
            allowed = await self._limiter.allow(f"web:{session_id}", self._limits.per_sender)
        if allowed:
            return None
        log.info("web: rate limited")
        text = reply("rate_limited")
        return web.json_response(
            {"error": "rate_limited", "message": text, "messages": [{"text": text}]},
            status=429, headers={"Retry-After": "60"},
            dumps=lambda d: json.dumps(d, ensure_ascii=False))

    @staticmethod
    def topic(session_id: str) -> str:
        return f"web:{session_id}"

    async def send(self, conversation_id: str, messages: Sequence[OutboundMessage]) -> None:
        for message in messages:
            await self._state.publish(self.topic(conversation_id), message.to_json())

    async def index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html",
                                headers={"Content-Type": "text/html; charset=utf-8"})

    async def create_session(self, request: web.Request) -> web.Response:
        if (limited := await self._over_limit(request)) is not None:
            return limited
        session_id, token = self._tokens.issue()
        return web.json_response({"session_id": session_id, "token": token}, status=201)

    def _session_from_header(self, request: web.Request) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return self._tokens.verify(token.strip())
        except InvalidToken:
            return None

    async def post_message(self, request: web.Request) -> web.Response:
        session_id = self._session_from_header(request)
        if session_id is None:
            return _error(401, "unauthorized", "missing, invalid or expired session token")
        if (limited := await self._over_limit(request, session_id)) is not None:
            return limited
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "too_large", "request body too large")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: deep nesting
            return _error(400, "bad_json", "body must be a UTF-8 JSON object")
        parsed = self._parse_body(body)
        if isinstance(parsed, web.Response):
            return parsed
        text, payload, client_id = parsed
        message = InboundMessage(
            channel=self.name, conversation_id=session_id, sender_id=session_id,
            message_id=f"{session_id}:{client_id}" if client_id else None,
            text=text, payload=payload,
            metadata={"channel": self.name, "user_agent": request.headers.get("User-Agent", "")},
        )
        try:
            outcome = await self._router.handle(message)
        except Exception as exc:  # not stored (the database is down): the client should retry
            log.error("web: message not stored: %s: %s", type(exc).__name__, exc)
            return web.json_response(
                {"error": "unavailable", "message": reply("store_unavailable")}, status=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                dumps=lambda d: json.dumps(d, ensure_ascii=False))
        result: dict[str, Any] = {"messages": [m.to_json() for m in outcome.replies]}
        if outcome.duplicate:
            result["duplicate"] = True
        return web.json_response(result, dumps=lambda d: json.dumps(d, ensure_ascii=False))

    def _parse_body(self, body: Any) -> tuple[str | None, str | None, str | None] | web.Response:
        if not isinstance(body, dict):
            return _error(400, "bad_json", "body must be a JSON object")
        text, payload = body.get("text"), body.get("payload")
        client_id = body.get("message_id")
        if client_id is not None and (not isinstance(client_id, str)
                                      or not 0 < len(client_id) <= MAX_CLIENT_MESSAGE_ID):
            return _error(400, "bad_message_id",
                          f"message_id must be a string of 1-{MAX_CLIENT_MESSAGE_ID} characters")
        if payload is not None:
            if not isinstance(payload, str) or not payload.startswith("/") or len(payload) > 500:
                return _error(400, "bad_payload", "payload must be a string starting with '/'")
            return (clean_text(text) if isinstance(text, str) else None), clean_text(payload), \
                client_id
        if not isinstance(text, str) or not (text := clean_text(text)):
            return _error(400, "empty_text", "text must be a non-empty string")
        if len(text) > self._max_text_chars:
            return _error(413, "text_too_long",
                          f"text must be at most {self._max_text_chars} characters")
        return text, None, client_id

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        try:
            session_id = self._tokens.verify(request.query.get("token", ""))
        except InvalidToken:
            return _error(401, "unauthorized", "missing, invalid or expired session token")
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_WS_MESSAGE_BYTES)
        await ws.prepare(request)
        try:
            async with self._state.subscribe(self.topic(session_id)) as messages:
                forward = asyncio.create_task(self._forward(messages, ws))
                try:
                    async for msg in ws:  # the client only keeps the socket open
                        if msg.type == WSMsgType.ERROR:
                            break
                finally:
                    forward.cancel()
                    await asyncio.gather(forward, return_exceptions=True)
        except RedisError as exc:  # live updates pause; the page reconnects (index.html)
            log.warning("web: live updates unavailable: %s", exc)
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER)
        return ws

    @staticmethod
    async def _forward(messages: Any, ws: web.WebSocketResponse) -> None:
        async for message in messages:
            await ws.send_json({"messages": [message]}, dumps=lambda d: json.dumps(
                d, ensure_ascii=False))
