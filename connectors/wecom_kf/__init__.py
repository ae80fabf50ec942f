"""WeChat Customer Service channel (微信客服)."""

from connectors.wecom_kf.channel import WeComKfChannel, WeComKfSettings

__all__ = ["WeComKfChannel", "WeComKfSettings"]
