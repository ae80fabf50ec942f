"""Client for the Rasa servers: the REST channel for turns, the HTTP API for status.

`RASA_URL` may list several replicas, comma separated. A conversation goes to the replica
picked by a stable hash of its sender id and, when that replica cannot be reached (connection
refused or reset, connect timeout, or it dies while answering), to the next one in the list.
The replicas share their tracker store and Rasa's `RedisLockStore`, so whichever replica takes
a turn sees the whole conversation and turns of one conversation run one after another.

A replica that accepted a turn but is slow (read timeout) is not retried elsewhere: it may still
finish the turn, and a second replica would then process the message twice.

A replica that died while answering may have held the conversation's lock. Rasa's ticket lock
counts a waiter's ticket lifetime from when it queued, so a waiter that queues right behind the
dead replica's ticket can see both tickets expire together and then wait forever. The turn is
therefore sent to the next replica only after the dead one's ticket has expired
(`takeover_delay`: Rasa's `TICKET_LOCK_LIFETIME` plus a second).
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, TypeVar
from urllib.parse import quote

import aiohttp

from connectors.base import OutboundMessage
from gateway.logs import TURN_HEADER, TURN_METADATA_KEY, current_turn_id
from gateway.metrics import count_error

log = logging.getLogger("gateway.rasa")

T = TypeVar("T")

CONNECT_TIMEOUT: Final = 3.0  # seconds to open a connection to a replica before trying the next
RETRY_DOWN_AFTER: Final = 5.0  # seconds a replica that failed is tried last, not first
STATUS_TIMEOUT: Final = 3.0


class RasaUnavailable(Exception):
    """Rasa did not answer usably (down, timed out, or an error status)."""


class _Unreachable(RasaUnavailable):
    """This replica could not be reached; another one may be."""


class _DiedWhileAnswering(_Unreachable):
    """The connection was made, then lost: the replica may hold the conversation's lock."""


def parse_urls(urls: str | Sequence[str]) -> list[str]:
    """The replica base URLs in `RASA_URL` (comma separated) or a list."""
    items = urls.split(",") if isinstance(urls, str) else list(urls)
    parsed = [u.strip().rstrip("/") for u in items if u.strip()]
    if not parsed:
        raise ValueError("no Rasa URL given")
    return parsed


def replica_order(sender: str, count: int) -> list[int]:
    """Replica indexes for `sender`: its own first (a stable hash), then the others in turn."""
    first = zlib.crc32(sender.encode("utf-8")) % count
    return [(first + i) % count for i in range(count)]


class RasaClient:
    def __init__(self, http: aiohttp.ClientSession, base_url: str | Sequence[str], token: str,
                 timeout: float = 30.0, *, connect_timeout: float = CONNECT_TIMEOUT,
                 takeover_delay: float = 0.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._http = http
        self._takeover_delay = takeover_delay
        self._sleep = sleep
        self.urls = parse_urls(base_url)
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self._clock = clock
        self._down_until: dict[str, float] = {}

    def replicas_for(self, sender: str) -> list[str]:
        """The replicas in the order a turn of `sender` tries them: recently failed ones last."""
        ordered = [self.urls[i] for i in replica_order(sender, len(self.urls))]
        now = self._clock()
        return sorted(ordered, key=lambda url: self._down_until.get(url, 0.0) > now)

    async def _failover(self, sender: str, what: str,
                        call: Callable[[str], Awaitable[T]]) -> T:
        """`call(url)` on the sender's replicas in order until one is reachable."""
        failures: list[str] = []
        for url in self.replicas_for(sender):
            try:
                result = await call(url)
            except _Unreachable as exc:
                self._down_until[url] = self._clock() + RETRY_DOWN_AFTER
                failures.append(f"{url}: {exc}")
                if len(failures) < len(self.urls):
                    count_error("rasa_failover")
                    log.warning("rasa replica %s unreachable for %s, trying the next: %s",
                                url, what, exc)
                    if isinstance(exc, _DiedWhileAnswering) and self._takeover_delay > 0:
                        await self._sleep(self._takeover_delay)  # its lock ticket expires
                continue
            self._down_until.pop(url, None)
            return result
        raise RasaUnavailable("no Rasa replica reachable: " + "; ".join(failures))

    async def send(self, sender: str, message: str, *, input_channel: str,
                   metadata: Mapping[str, Any] | None = None) -> list[OutboundMessage]:
        body_metadata = dict(metadata or {})
        headers: dict[str, str] = {}
        turn_id = current_turn_id()
        if turn_id is not None:  # the action server logs it (actions/server.py)
            body_metadata[TURN_METADATA_KEY] = turn_id
            headers[TURN_HEADER] = turn_id
        body = {"sender": sender, "message": message, "input_channel": input_channel,
                "metadata": body_metadata}

        async def post(url: str) -> Any:
            async with _reachable(), self._http.post(
                    f"{url}/webhooks/rest/webhook", json=body, headers=headers,
                    timeout=self._timeout) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {resp.status}")
                return await resp.json()

        try:
            data = await self._failover(sender, "a turn", post)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(data, list):
            raise RasaUnavailable("Rasa answered something that is not a list")
        return [OutboundMessage.from_rasa(item) for item in data if isinstance(item, Mapping)]

    async def erase_tracker(self, sender: str) -> None:
        """Replace every event of a conversation's tracker with nothing (needs the token)."""
        async def put(url: str) -> None:
            async with _reachable(), self._http.put(
                    f"{url}/conversations/{quote(sender, safe='')}/tracker/events",
                    params={"token": self._token}, json=[], timeout=self._timeout) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"Rasa tracker reset answered HTTP {resp.status}")

        try:
            await self._failover(sender, "a tracker reset", put)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def status(self) -> dict[str, Any]:
        """Rasa's `/status` (needs the token) from the first replica that is ready; raises
        RasaUnavailable, naming each replica's problem, when none is."""
        # All at once, the first ready one wins: a replica that hangs must not hide one that
        # answers.
        checks = [asyncio.ensure_future(self._status(url)) for url in self.urls]
        problems: list[str] = []
        try:
            for done in asyncio.as_completed(checks):
                try:
                    return await done
                except RasaUnavailable as exc:
                    problems.append(str(exc))
        finally:
            for check in checks:
                check.cancel()
            await asyncio.gather(*checks, return_exceptions=True)
        raise RasaUnavailable("; ".join(problems))

    async def _status(self, url: str) -> dict[str, Any]:
        try:
            return await self._status_of(url)
        except RasaUnavailable as exc:
            if len(self.urls) == 1:
                raise
            raise RasaUnavailable(f"{url}: {exc}") from exc

    async def _status_of(self, url: str) -> dict[str, Any]:
        try:
            async with self._http.get(f"{url}/status", params={"token": self._token},
                                      timeout=aiohttp.ClientTimeout(total=STATUS_TIMEOUT)
                                      ) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"Rasa /status answered HTTP {resp.status}")
                data = await resp.json()
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(data, dict) or not data.get("model_file"):
            raise RasaUnavailable("Rasa has no model loaded")
        return data


class _reachable:
    """Turns "could not reach this replica" errors into `_Unreachable` (others pass through)."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: object) -> bool:
        if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
            raise _Unreachable(f"{type(exc).__name__}: {exc}") from exc
        if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError):
            raise _DiedWhileAnswering(f"{type(exc).__name__}: {exc}") from exc
        return False
