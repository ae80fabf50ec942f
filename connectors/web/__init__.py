"""The web widget channel: sessions, messages, a websocket for later messages, a chat page."""

from connectors.web.channel import WebChannel

__all__ = ["WebChannel"]
