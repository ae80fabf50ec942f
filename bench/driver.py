"""Simulated people: each runs whole conversations, one turn after the other, as fast as the
answers come (no think time, no sleeps), over the web channel or straight to Rasa."""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.conversations import Conversation, Turn, conversation_for
from gateway.replies import reply

# What the gateway says when it could not get an answer: a failed turn for the benchmark.
APOLOGIES = frozenset(reply(key) for key in ("bot_unavailable", "bot_no_answer",
                                               "rate_limited", "store_unavailable"))
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # seconds, successful turns
    errors: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.examples) < 5:
            self.examples.append(f"{kind}: {detail[:200]}")

    @property
    def turns(self) -> int:
        return len(self.latencies) + sum(self.errors.values())


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100) of `values`."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


class Target:
    """Where turns go: `open` a conversation, then `send` its turns."""

    name: str

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    async def open(self) -> Any:
        raise NotImplementedError

    async def send(self, conversation: Any, turn: Turn) -> list[dict[str, Any]]:
        raise NotImplementedError


class TurnFailed(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


class Gateway(Target):
    """The web channel: a session, then `POST /channels/web/messages` per turn."""

    name = "gateway"

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        super().__init__(http)
        self.url = url

    async def open(self) -> dict[str, str]:
        async with self.http.post(f"{self.url}/channels/web/sessions",
                                  timeout=REQUEST_TIMEOUT) as resp:
            if resp.status != 201:
                raise TurnFailed("session", f"HTTP {resp.status}")
            body = await resp.json()
        return {"Authorization": f"Bearer {body['token']}"}

    async def send(self, conversation: Any, turn: Turn) -> list[dict[str, Any]]:
        body: dict[str, str] = {}
        if turn.text is not None:
            body["text"] = turn.text
        if turn.payload is not None:
            body["payload"] = turn.payload
        async with self.http.post(f"{self.url}/channels/web/messages", json=body,
                                  headers=conversation, timeout=REQUEST_TIMEOUT) as resp:
            if resp.status != 200:
                raise TurnFailed(f"http_{resp.status}", await resp.text())
            data = await resp.json()
        messages: list[dict[str, Any]] = data.get("messages", [])
        for message in messages:
            if message.get("text") in APOLOGIES:
                raise TurnFailed("bot_failed", message["text"])
        return messages


class DirectRasa(Target):
    """Rasa's REST channel, as the gateway calls it, without the gateway."""

    name = "direct"

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        super().__init__(http)
        self.url = url

    async def open(self) -> str:
        return f"bench:{secrets.token_hex(8)}"

    async def send(self, conversation: Any, turn: Turn) -> list[dict[str, Any]]:
        message = turn.payload if turn.payload is not None else (turn.text or "")
        body = {"sender": conversation, "message": message, "input_channel": "web",
                "metadata": {"channel": "web"}}
        async with self.http.post(f"{self.url}/webhooks/rest/webhook", json=body,
                                  timeout=REQUEST_TIMEOUT) as resp:
            if resp.status != 200:
                raise TurnFailed(f"http_{resp.status}", await resp.text())
            data = await resp.json()
        if not isinstance(data, list):
            raise TurnFailed("bad_answer", str(data))
        return [m for m in data if isinstance(m, dict)]


async def run_conversation(target: Target, script: Conversation, result: Result,
                           on_turn: Callable[[], None]) -> None:
    try:
        handle = await target.open()
    except (TurnFailed, aiohttp.ClientError, TimeoutError) as exc:
        result.error(getattr(exc, "kind", type(exc).__name__), str(exc))
        return
    previous: list[dict[str, Any]] = []
    for turn in script.turns:
        if turn.first_button:
            buttons = [b for m in previous for b in m.get("buttons") or ()]
            if buttons:
                turn = Turn(text=buttons[0].get("title"), payload=buttons[0].get("payload"))
        started = time.perf_counter()
        try:
            previous = await target.send(handle, turn)
            if not previous:
                raise TurnFailed("no_answer", f"{script.kind}: no reply to {turn}")
        except (TurnFailed, aiohttp.ClientError, TimeoutError) as exc:
            result.error(getattr(exc, "kind", type(exc).__name__), f"{script.kind}: {exc}")
            previous = []
        else:
            result.latencies.append(time.perf_counter() - started)
        on_turn()


async def run_level(target: Target, concurrency: int, conversations: int,
                    on_turn: Callable[[], None], offset: int = 0) -> tuple[Result, float]:
    """`concurrency` people, `conversations` conversations between them; (result, seconds)."""
    result = Result()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(conversations):
        queue.put_nowait(offset + index)

    async def person() -> None:
        while True:
            try:
                index = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await run_conversation(target, conversation_for(index), result, on_turn)

    started = time.perf_counter()
    await asyncio.gather(*(person() for _ in range(concurrency)))
    return result, time.perf_counter() - started


def summary(result: Result, seconds: float) -> dict[str, Any]:
    ms = [x * 1000 for x in result.latencies]
    return {
        "turns": result.turns,
        "ok": len(result.latencies),
        "errors": sum(result.errors.values()),
        "errors_by_kind": result.errors,
        "error_examples": result.examples,
        "seconds": round(seconds, 3),
        "turns_per_s": round(len(result.latencies) / seconds, 2) if seconds else 0.0,
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1) if ms else math.nan,
        "mean_ms": round(sum(ms) / len(ms), 1) if ms else math.nan,
    }


Sampler = Callable[[], Awaitable[None]]
