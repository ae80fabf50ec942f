"""Feishu (飞书) bot channel."""

from connectors.feishu.channel import FeishuChannel, FeishuSettings

__all__ = ["FeishuChannel", "FeishuSettings"]
