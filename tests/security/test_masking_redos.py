"""One long message must not stall every user: masking runs in linear time on hostile input.

Before the fix a label followed by a long run of spaces (姓名 / 验证码 / SMS code …) made the patterns backtrack
quadratically: 20,000 characters took 38 s, 100,000 took minutes. Each case here is masked at 10,000 and at
100,000 characters; linear work grows about ×10, quadratic ×100. CPU time of this thread is measured, so other
processes on the machine do not make the test flaky.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.masking import mask_event, mask_log_text, mask_text, mask_value

SMALL, LARGE = 10_000, 100_000
MAX_GROWTH = 30  # linear is ~10×, quadratic ~100×
MAX_SECONDS = 5.0  # for 100,000 characters; the old code took minutes on the label cases

# Text builders: n → a hostile text of about n characters.
Builder = Callable[[int], str]

# Quadratic (or a crash) before the fix.
HOSTILE_TEXTS: dict[str, Builder] = {
    "spaces after 姓名": lambda n: "姓名" + " " * n + "x",
    "spaces after 联系人": lambda n: "联系人" + " " * n + "x",
    "spaces after 验证码": lambda n: "验证码" + " " * n + "x",
    "spaces after SMS code": lambda n: "SMS code" + " " * n + "x",
    "nested JSON payload": lambda n: "/inform" + '{"a":' * (n // 6) + "1" + "}" * (n // 6),
}
# Linear before the fix as well: they guard the patterns that now accept separators, glued labels, full-width
# digits, addresses and JSON texts, which are the new places a hostile text could make them backtrack.
GUARD_TEXTS: dict[str, Builder] = {
    "spaces after 手机": lambda n: "手机" + " " * n + "x",
    "spaces after 密码": lambda n: "密码" + " " * n + "x",
    "spaces after 护照": lambda n: "护照" + " " * n + "x",
    "spaces after name": lambda n: "my name is" + " " * n + "x",
    "long digit run": lambda n: "1" * n,
    "digits and spaces": lambda n: "1 " * (n // 2),
    "digits and dashes": lambda n: "1-" * (n // 2),
    "full-width digits": lambda n: "１" * n,
    "letters without @": lambda n: "a" * n,
    "dotted letters after @": lambda n: "a@" + "a." * (n // 2),
    "glued labels": lambda n: "tel" * (n // 3),
    "glued labels and digits": lambda n: "ID1" * (n // 3),
    "nested braces after /": lambda n: "/inform" + "{" * n,
    "road and house numbers": lambda n: "文三路1号" * (n // 5),
    "road and number runs": lambda n: "路" + "1-" * (n // 2),
    "Han text": lambda n: "王" * n,
    "temperature labels and readings": lambda n: "体温36" * (n // 4),
    "readings and units": lambda n: "36.5度" * (n // 5),
    "我是 repeated": lambda n: "我是" * (n // 2),
}


def _cpu_seconds(work: Callable[[], object]) -> float:
    start = time.thread_time()
    work()
    return time.thread_time() - start


def _assert_linear(run: Callable[[int], object]) -> None:
    small = min(_cpu_seconds(lambda: run(SMALL)) for _ in range(3))
    large = _cpu_seconds(lambda: run(LARGE))
    assert large < MAX_SECONDS, f"{large:.2f} s for {LARGE:,} characters"
    # 20 ms of slack: a few ms at 10,000 characters are too little to compare against reliably
    assert large < MAX_GROWTH * small + 0.02, f"{small * 1000:.1f} ms → {large * 1000:.1f} ms"


@pytest.mark.parametrize("build", HOSTILE_TEXTS.values(), ids=HOSTILE_TEXTS.keys())
def test_mask_text_is_linear(build: Builder) -> None:
    _assert_linear(lambda n: mask_text(build(n)))


@pytest.mark.parametrize("build", GUARD_TEXTS.values(), ids=GUARD_TEXTS.keys())
def test_mask_text_stays_linear_on_what_the_new_patterns_accept(build: Builder) -> None:
    _assert_linear(lambda n: mask_text(build(n)))


def test_log_masking_is_linear() -> None:
    """Log lines are unescaped (\\u…, %…, \\x…) and then masked: both steps must be linear."""
    _assert_linear(lambda n: mask_log_text("%E5%BC%A0" * (n // 90) + "姓名" + " " * n + "x"))


def test_phone_field_value_is_linear() -> None:
    """A slot called phone may hold anything a user typed: its masker must not backtrack either."""
    _assert_linear(lambda n: mask_value("phone", "1" + " " * n + "x"))


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"


def _many_names(n: int) -> str:
    """A message announcing thousands of different names (我叫王伟，我叫王芳，…)."""
    names = (f"我叫{s}{a}{b}，" for s in _SURNAMES for a in _GIVEN for b in _GIVEN)
    return "".join(names)[:n]


def test_event_with_thousands_of_known_values_is_linear() -> None:
    """Every announced name becomes a known value; each used to cost a pass over the whole text."""

    def run(n: int) -> dict:
        text = _many_names(n)
        return mask_event({"event": "user", "text": text, "parse_data": {"text": text}, "sender_id": "rest:x"})

    _assert_linear(run)
    masked = run(SMALL)
    assert "王伟" not in masked["text"] and masked["text"].startswith("我叫王**，我叫王**，")
