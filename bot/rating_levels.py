"""The five levels of a 好差评 rating (GB/T 39734-2020) and how citizens write them.

Shared by the NLU (nlu/components/rating_words.py), the actions (reading a typed rating) and the console (scores,
好评 and 差评).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEVELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
SCORES = {level: 5 - position for position, level in enumerate(LEVELS)}  # 非常满意 = 5 … 非常不满意 = 1
BAD = frozenset({"不满意", "非常不满意"})  # 差评: followed up by an operator
BY_STARS = {SCORES[level]: level for level in LEVELS}  # 5 stars = 非常满意

# Most specific first: "不满意" must not be read as "满意", nor "非常不满意" as "不满意".
_WRITTEN = (
    ("非常不满意", r"(非常|很|特别|极其|极|超级|太|十分)不(太)?[满滿瞒]意|[太很非常极]+差|差劲|垃圾|极差"),
    ("不满意", r"不(太)?[满滿瞒]意|差评|不好(?!意思)"),
    ("基本满意", r"基本[满滿瞒]意|一般|还行|還行|还可以|凑合|马马虎虎|中评"),
    ("非常满意", r"(非常|很|特别|超级|十分|相当)[满滿瞒]意|非常好|太棒|点赞|超赞|完美"),
    ("满意", r"[满滿瞒]意|好评|不错|挺好"),
)
_PATTERNS = tuple((level, re.compile(pattern)) for level, pattern in _WRITTEN)
_STARS = re.compile(r"([一二两三四五1-5])\s*(颗|顆|个)?星|★+")
_STAR_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
# Words that make a message a rating rather than a plain "好的" or "不错，谢谢" (nlu/components/rating_words.py).
UNMISTAKABLE = re.compile(r"[满滿瞒]意|好评|差评|中评|([一二两三四五1-5])\s*(颗|顆|个)?星|★")
_FILLER = re.compile(r"[\s\W_]|谢谢|感谢|多谢|评价|打分|给|个|我|选|吧|啊|呀|的|了|这次|服务|办理|体验|评|分|颗|星|★")


@dataclass(frozen=True)
class Found:
    level: str
    start: int
    end: int


def find(text: str | None) -> Found | None:
    """The level a message names and where (stars first: "五星好评" is five stars), or None."""
    if not text:
        return None
    stars = _STARS.search(text)
    if stars:
        count = len(stars.group()) if stars.group().startswith("★") else _star_number(stars.group(1))
        if count in BY_STARS:
            return Found(BY_STARS[count], stars.start(), stars.end())
    for level, pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            return Found(level, match.start(), match.end())
    return None


def _star_number(written: str) -> int:
    return _STAR_NUMBERS.get(written) or int(written)


def parse(text: str | None) -> str | None:
    """The level a message or an entity value names, or None."""
    value = (text or "").strip()
    if value in SCORES:
        return value
    found = find(value)
    return found.level if found else None


def comment_in(text: str) -> str | None:
    """The citizen's own words beside the level ("差评，等了好久" -> the whole message), or None for a level alone."""
    rest = _STARS.sub("", text)
    for _, pattern in _PATTERNS:
        rest = pattern.sub("", rest)
    return text.strip() if len(_FILLER.sub("", rest)) >= 2 else None
