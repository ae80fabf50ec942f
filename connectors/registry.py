"""Which messaging platforms to mount: one channel per platform whose settings are all set.

`gateway/app.py` calls `platform_channels(os.environ)`; a platform with any required setting
absent (or empty) is not mounted. Settings (and `<PLATFORM>_API_BASE`) are in docs/channels/.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.base import Channel
from connectors.dingtalk import DingTalkChannel, DingTalkSettings
from connectors.feishu import FeishuChannel, FeishuSettings
from connectors.wechat import WeChatChannel, WeChatSettings
from connectors.wecom import WeComChannel, WeComSettings
from connectors.wecom_kf import WeComKfChannel, WeComKfSettings


def platform_channels(env: Mapping[str, str]) -> list[Channel]:
    """The configured platform channels, in a fixed order. A malformed setting (a non-numeric
    agent id, an EncodingAESKey that is not 43 base64 characters) raises ValueError at startup
    rather than failing on the first webhook."""
    channels: list[Channel] = []
    if (wecom := WeComSettings.from_env(env)) is not None:
        channels.append(WeComChannel(wecom))
    if (kf := WeComKfSettings.from_env(env)) is not None:
        channels.append(WeComKfChannel(kf))
    if (wechat := WeChatSettings.from_env(env)) is not None:
        channels.append(WeChatChannel(wechat))
    if (dingtalk := DingTalkSettings.from_env(env)) is not None:
        channels.append(DingTalkChannel(dingtalk))
    if (feishu := FeishuSettings.from_env(env)) is not None:
        channels.append(FeishuChannel(feishu))
    return channels
