"""DingTalk robot channel (钉钉, HTTP mode)."""

from connectors.dingtalk.channel import DingTalkChannel, DingTalkSettings

__all__ = ["DingTalkChannel", "DingTalkSettings"]
