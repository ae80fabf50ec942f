"""Which district a message names, and in which role (公证法 Art. 25).

Art. 25 lets a person apply where they live (住所地), habitually live (经常居住地), where the act
was done or the fact happened (行为地、事实发生地); a matter involving real estate goes to where
the property lies. So "我住在钟楼区,爸爸在武进区的房子要办继承" names two districts with two roles.
The role is read from the few characters around each mention; a district with no cue is
`NAMED` and counts as the person's own place.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class Role(enum.StrEnum):
    RESIDENCE = "residence"
    PROPERTY = "property"
    ACT = "act"
    NAMED = "named"


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    district: str  # canonical name


_PROPERTY_AFTER = re.compile(r"^(?:那边|这边|那里)?(?:的|有|有一|有个|有一个)?(?:一)?(?:套|处|间)?"
                             r"(?:房|老房|商铺|门面|不动产|宅基地|厂房|土地)")
_PROPERTY_BEFORE = re.compile(r"(?:房子|房产|房屋|住房|商铺|门面|不动产|宅基地|厂房|土地|房)"
                              r"(?:是|都)?(?:在|位于|坐落在|坐落于)$")
_RESIDENCE_BEFORE = re.compile(r"(?:住在|住|家在|家住|户口在|户籍在|户口是|居住在|常住|常住在|"
                               r"生活在|我在|人在|我是|我家在)$")
_ACT_BEFORE = re.compile(r"(?:发生在|是在|在)$")
_ACT_AFTER = re.compile(r"^(?:签|发生|订立|办的|拍卖|招标)")


def find_districts(text: str, aliases: Mapping[str, str]) -> list[Mention]:
    """Every district named in `text` (longest alias first, no overlaps), in text order."""
    taken = [False] * len(text)
    found: list[Mention] = []
    for alias in sorted(aliases, key=len, reverse=True):
        for match in re.finditer(re.escape(alias), text):
            span = range(match.start(), match.end())
            if any(taken[i] for i in span):
                continue
            for i in span:
                taken[i] = True
            found.append(Mention(match.start(), match.end(), aliases[alias]))
    return sorted(found, key=lambda m: m.start)


def role_of(text: str, mention: Mention) -> Role:
    before = text[max(0, mention.start - 6):mention.start]
    after = text[mention.end:mention.end + 8]
    if _PROPERTY_AFTER.search(after) or _PROPERTY_BEFORE.search(before):
        return Role.PROPERTY
    if _RESIDENCE_BEFORE.search(before):
        return Role.RESIDENCE
    if _ACT_AFTER.search(after) or (_ACT_BEFORE.search(before) and re.search(
            r"签|发生|订立|拍卖|招标", text[max(0, mention.start - 12):mention.end + 6])):
        return Role.ACT
    return Role.NAMED


@dataclass(frozen=True)
class Places:
    """The first district named in each role."""

    residence: str | None = None
    real_estate: str | None = None  # where the property lies
    act: str | None = None
    named: str | None = None

    @property
    def own(self) -> tuple[str, Role] | None:
        """The person's own connecting point under the general rule, if any."""
        for district, role in ((self.residence, Role.RESIDENCE), (self.act, Role.ACT),
                               (self.named, Role.NAMED)):
            if district is not None:
                return district, role
        return None


def read_places(text: str, mentions: Sequence[Mention]) -> Places:
    first: dict[Role, str] = {}
    for mention in mentions:
        first.setdefault(role_of(text, mention), mention.district)
    return Places(residence=first.get(Role.RESIDENCE), real_estate=first.get(Role.PROPERTY),
                  act=first.get(Role.ACT), named=first.get(Role.NAMED))
