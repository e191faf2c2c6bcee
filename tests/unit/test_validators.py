"""What citizens type into forms: accepted values are normalised, others explained (in the domain's words)."""

from datetime import date, datetime
from typing import Any

import pytest

from actions.campus import date_range
from actions.validators import (
    Invalid,
    Result,
    Valid,
    validate_credit_code,
    validate_graduation_year,
    validate_id_number,
    validate_person_name,
    validate_phone,
    validate_sms_code,
)
from bot import clock
from tests.unit.rendering import part


@pytest.fixture
def said(domain: dict[str, Any]):  # noqa: ANN201
    """What the form tells the citizen about an invalid answer."""

    def reason(result: Result) -> str:
        assert isinstance(result, Invalid), result
        return part(domain, result.response, **result.values)

    return reason


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("330106199503140023", "330106199503140023"),
        ("45010219920605004x", "45010219920605004X"),
        ("330106 1995 0314 0023", "330106199503140023"),
        ("身份证号是３３０１０６１９９５０３１４００２３", "330106199503140023"),
    ],
)
def test_valid_id_numbers_are_normalised(text: str, value: str) -> None:
    assert validate_id_number(text) == Valid(value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("330106199503140024", "校验未通过"),
        ("3301061995031400", "您输入的是16位"),
        ("330106950314002", "您输入的是15位"),  # a first-generation (15-digit) number is not accepted
        ("330106199513400023", "出生日期不正确"),
        ("330106209903140023", "出生日期不正确"),  # born in the future
        ("330106189903140023", "出生日期不正确"),  # before 1900
    ],
)
def test_invalid_id_numbers_say_why(text: str, reason: str, said) -> None:  # noqa: ANN001
    assert reason in said(validate_id_number(text, today=date(2026, 11, 26)))


def test_phone_numbers(said) -> None:  # noqa: ANN001
    assert validate_phone("+86 138-0000-0001") == Valid("13800000001")
    assert validate_phone("手机13800000002") == Valid("13800000002")
    assert "10位" in said(validate_phone("1380000000"))
    assert "13至19开头" in said(validate_phone("12800000001"))


def test_sms_codes_and_names(said) -> None:  # noqa: ANN001
    assert validate_sms_code("验证码 482913") == Valid("482913")
    assert isinstance(validate_sms_code("12345"), Invalid)
    assert validate_person_name("我叫陈晓") == Valid("陈晓")
    assert validate_person_name("买买提·艾力") == Valid("买买提·艾力")
    assert "数字" in said(validate_person_name("陈晓1"))


def test_graduation_year_and_credit_code(said) -> None:  # noqa: ANN001
    assert validate_graduation_year("26届", today=date(2026, 11, 26)) == Valid("2026")
    assert said(validate_graduation_year("1990", today=date(2026, 11, 26))) == (
        "毕业年份应在2016年至2031年之间，请核对后重新输入"
    )
    assert validate_credit_code("91330106MA2H3K5P13") == Valid("91330106MA2H3K5P13")
    assert validate_credit_code("91330106ma2h3k5p13") == Valid("91330106MA2H3K5P13")
    assert "校验未通过" in said(validate_credit_code("91330106MA2H3K5P14"))
    assert "不含I、O、Z、S、V" in said(validate_credit_code("91330106MA2H3K5PI3"))


def test_today_is_the_date_in_china_whatever_the_hosts_zone(monkeypatch: pytest.MonkeyPatch, said) -> None:  # noqa: ANN001
    """At 00:30 on 1 January in Beijing a host on UTC still has 31 December: the citizen's new year counts."""
    monkeypatch.setattr(clock, "china_now", lambda: datetime(2027, 1, 1, 0, 30, tzinfo=clock.CHINA_TZ))
    assert said(validate_graduation_year("2016")) == "毕业年份应在2017年至2032年之间，请核对后重新输入"
    assert validate_id_number("330106202701010021") == Valid("330106202701010021")  # born today, in China
    assert date_range("今天有招聘会吗") == (date(2027, 1, 1), date(2027, 1, 1))
