"""What the simulated people say: realistic multi-turn conversations in Chinese.

A turn is a text, a button payload, or `FIRST_BUTTON` (click the first button of the previous
answer, e.g. the first free slot offered, falling back to a text when there was none). Whatever
the bot answers is accepted, as long as it answers: the benchmark measures speed, the
conversation tests (`make test-rasa`) measure correctness.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Turn:
    text: str | None = None
    payload: str | None = None
    first_button: bool = False  # click the first button offered by the previous answer


def say(text: str) -> Turn:
    return Turn(text=text)


def click(payload: str, text: str | None = None) -> Turn:
    return Turn(text=text, payload=payload)


def first_button(fallback: str) -> Turn:
    return Turn(text=fallback, first_button=True)


@dataclass(frozen=True)
class Conversation:
    kind: str
    turns: tuple[Turn, ...]


CONVERSATIONS: tuple[Conversation, ...] = (
    Conversation("legal_aid", (
        say("你好"),
        say("我是应届毕业生,公司拖欠我三个月工资"),
        say("3口人"),
        say("四千"),
        say("谢谢"),
    )),
    Conversation("booking", (
        say("帮我预约下周三上午武进区的法律咨询,问劳动合同的问题"),
        first_button("第一个时间"),
        say("13912345678"),
        click("/affirm", "确认"),
        say("谢谢,再见"),
    )),
    Conversation("faq", (
        say("您好"),
        say("申请法律援助要带什么材料"),
        say("法律援助申请多久能批下来"),
        say("12348是什么电话"),
        say("好的,谢谢"),
    )),
    Conversation("notary", (
        say("你好"),
        say("学历公证去哪办"),  # the notary search is being built: any answer counts
        say("武进区"),
        say("谢谢"),
    )),
    Conversation("small_talk", (
        say("你好啊"),
        say("你是机器人吗"),
        say("你能帮我做什么"),
        say("多谢"),
        say("再见"),
    )),
    Conversation("status_lookup", (
        say("查询申请进度"),
        say("FY-2B3C4D5E"),
        say("5678"),
        say("谢谢"),
    )),
)


def conversation_for(index: int) -> Conversation:
    """The mix: each kind in turn."""
    return CONVERSATIONS[index % len(CONVERSATIONS)]
