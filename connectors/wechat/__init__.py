"""WeChat Official Account channel (公众号)."""

from connectors.wechat.channel import WeChatChannel, WeChatSettings

__all__ = ["WeChatChannel", "WeChatSettings"]
