"""Client for the Rasa server: the REST channel for turns, the HTTP API for status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from connectors.base import OutboundMessage


class RasaUnavailable(Exception):
    """Rasa did not answer usably (down, timed out, or an error status)."""


class RasaClient:
    def __init__(self, http: aiohttp.ClientSession, base_url: str, token: str,
                 timeout: float = 30.0) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, sender: str, message: str, *, input_channel: str,
                   metadata: Mapping[str, Any] | None = None) -> list[OutboundMessage]:
        body = {"sender": sender, "message": message, "input_channel": input_channel,
                "metadata": dict(metadata or {})}
        try:
            async with self._http.post(f"{self._base_url}/webhooks/rest/webhook", json=body,
                                       timeout=self._timeout) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {resp.status}")
                data = await resp.json()
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(data, list):
            raise RasaUnavailable("Rasa answered something that is not a list")
        return [OutboundMessage.from_rasa(item) for item in data if isinstance(item, Mapping)]

    async def erase_tracker(self, sender: str) -> None:
        """Replace every event of a conversation's tracker with nothing (needs the token)."""
        try:
            async with self._http.put(
                    f"{self._base_url}/conversations/{quote(sender, safe='')}/tracker/events",
                    params={"token": self._token}, json=[], timeout=self._timeout) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"Rasa tracker reset answered HTTP {resp.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def status(self) -> dict[str, Any]:
        """Rasa's `/status` (needs the token): raises RasaUnavailable when it is not ready."""
        try:
            async with self._http.get(f"{self._base_url}/status",
                                      params={"token": self._token},
                                      timeout=aiohttp.ClientTimeout(total=3)) as resp:
                if resp.status != 200:
                    raise RasaUnavailable(f"Rasa /status answered HTTP {resp.status}")
                data = await resp.json()
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(data, dict) or not data.get("model_file"):
            raise RasaUnavailable("Rasa has no model loaded")
        return data
