"""WeCom self-built app channel (企业微信自建应用)."""

from connectors.wecom.channel import WeComChannel, WeComSettings

__all__ = ["WeComChannel", "WeComSettings"]
