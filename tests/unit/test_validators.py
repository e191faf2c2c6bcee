"""What citizens type into forms: accepted values are normalised, others explained (in the domain's words)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from actions.campus import date_range
from actions.validators.common import (
    CONFIRMED,
    DECLINED,
    Invalid,
    Result,
    Valid,
    chinese_number,
    validate_confirmation,
    validate_credit_code,
    validate_graduation_year,
    validate_id_number,
    validate_person_name,
    validate_phone,
    validate_sms_code,
)
from actions.validators.health import (
    validate_symptoms,
    validate_temperature,
    validate_yes_no,
)
from actions.validators.tax import (
    PERSONAL,
    find_tax_amount,
    find_tax_days,
    tax_days,
    validate_tax_amount,
    validate_tax_company,
    validate_tax_days,
    validate_tax_months,
    validate_tax_period_choice,
    validate_tax_reason,
    validate_tax_taxpayer,
)
from actions.validators.vehicle import (
    validate_city_name,
    validate_plate_number,
    validate_vin_tail,
)
from actions.validators.work_resumption import (
    find_date,
    recognise_planned_date,
    validate_company_code,
    validate_isolation_rooms,
    validate_key_area_staff,
    validate_planned_date,
    validate_returning_staff,
    validate_supplies_days,
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


# -- enterprise work-resumption filing ------------------------------------------------------------------------------

SERVICE_TODAY = date(2026, 12, 1)  # a Tuesday: the service's date, which need not be ours


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-12-05", date(2026, 12, 5)),
        ("2026年12月5日", date(2026, 12, 5)),
        ("20261205", date(2026, 12, 5)),
        ("12月5日", date(2026, 12, 5)),
        ("十二月五号", date(2026, 12, 5)),
        ("12.5", date(2026, 12, 5)),
        ("12/5", date(2026, 12, 5)),
        ("１２月５日", date(2026, 12, 5)),
        ("计划12月8号复工，返岗120人", date(2026, 12, 8)),
        ("1月5日", date(2027, 1, 5)),  # already past this year: next year's
        ("明天", date(2026, 12, 2)),
        ("后天", date(2026, 12, 3)),
        ("大后天", date(2026, 12, 4)),
        ("三天后", date(2026, 12, 4)),
        ("10天以后", date(2026, 12, 11)),
        ("下周一", date(2026, 12, 7)),
        ("下个礼拜天", date(2026, 12, 13)),
        ("下下周三", date(2026, 12, 16)),
        ("周五", date(2026, 12, 4)),  # the next Friday
        ("周二", date(2026, 12, 8)),  # said on a Tuesday: next week's
        ("这周五", date(2026, 12, 4)),
        ("25号", date(2026, 12, 25)),
        ("下个月3号", date(2027, 1, 3)),
    ],
)
def test_planned_dates_are_read_from_the_services_today(text: str, day: date) -> None:
    assert find_date(text, SERVICE_TODAY) == day


def test_a_day_of_the_month_already_past_is_next_months() -> None:
    assert find_date("5号", date(2026, 12, 10)) == date(2027, 1, 5)
    assert find_date("12号", date(2026, 12, 10)) == date(2026, 12, 12)


def test_planned_dates_that_cannot_be_used_say_why(said) -> None:  # noqa: ANN001
    earliest = date(2026, 12, 4)
    assert validate_planned_date("12月4日", SERVICE_TODAY, earliest) == Valid("2026-12-04")
    assert said(validate_planned_date("明天", SERVICE_TODAY, earliest)) == (
        "计划复工日期须至少比申报当天晚3天，您填写的2026年12月2日早于最早可填写的日期，最早可以填写2026年12月4日（星期五）"
    )
    assert "不存在" in said(validate_planned_date("2月30日", SERVICE_TODAY, earliest))
    assert "没有看懂" in said(validate_planned_date("下周", SERVICE_TODAY, earliest))
    assert "没有看懂" in said(validate_planned_date("尽快", SERVICE_TODAY, earliest))
    # The form's first check only asks whether a day is named: the service's date decides the rest.
    assert recognise_planned_date(" 下周一 ") == Valid("下周一")
    assert isinstance(recognise_planned_date("越快越好"), Invalid)


def test_chinese_numbers() -> None:
    assert [chinese_number(t) for t in ("十五", "二十", "一百二十", "一百零五", "一百二", "两千", "三万", "零")] == [
        15, 20, 120, 105, 120, 2000, 30000, 0,
    ]
    assert chinese_number("三四") is None  # "three or four" is no number
    assert chinese_number("万") is None


def test_staff_counts(said) -> None:  # noqa: ANN001
    for text, count in (("120", "120"), ("120人", "120"), ("一百二十人", "120"), ("大约120人", "120"),
                        ("1,200人", "1200")):
        assert validate_returning_staff(text) == Valid(count), text
    assert validate_returning_staff("三十来个") == Valid("30")
    assert "至少为1人" in said(validate_returning_staff("没有"))
    assert "确切的数字" in said(validate_returning_staff("100到120人"))
    assert "确切的数字" in said(validate_returning_staff("三四十人"))
    assert said(validate_returning_staff("2.5")) == "请填写整数"
    assert "没有找到" in said(validate_returning_staff("还不清楚"))
    assert "没有找到" in said(validate_returning_staff("等一下"))  # 一 in a word is no count
    assert "最多1000000" in said(validate_returning_staff("2000000"))
    assert validate_key_area_staff("没有") == Valid("0")
    assert validate_key_area_staff("都是本地的") == Valid("0")
    assert validate_key_area_staff("一个都没有") == Valid("0")
    assert validate_key_area_staff("3个") == Valid("3")
    assert "没有找到" in said(validate_key_area_staff("没数过"))


def test_days_of_supplies_and_isolation_rooms(said) -> None:  # noqa: ANN001
    cases = {"5天": "5", "7": "7", "一周": "7", "一个礼拜": "7", "两个星期": "14", "半个月": "15", "一个月": "30",
             "够用十天": "10", "没有": "0"}
    for text, days in cases.items():
        assert validate_supplies_days(text) == Valid(days), text
    assert "确切的数字" in said(validate_supplies_days("三四天"))
    assert "最多3650" in said(validate_supplies_days("9999天"))
    for text, rooms in {"2间": "2", "两间": "2", "1": "1", "没有": "0", "一间也没有": "0"}.items():
        assert validate_isolation_rooms(text) == Valid(rooms), text


def test_credit_codes_in_an_answer(said) -> None:  # noqa: ANN001
    typed = ("91330110MA2K8L6R2R", "代码是91330110ma2k8l6r2r", "9133 0110 MA2K 8L6R 2R",
             "９１３３０１１０ＭＡ２Ｋ８Ｌ６Ｒ２Ｒ")
    for text in typed:
        assert validate_company_code(text) == Valid("91330110MA2K8L6R2R"), text
    assert "校验未通过" in said(validate_company_code("91330110MA2K8L6R2T"))
    assert "18位" in said(validate_company_code("代码91330110MA2K8L6R2"))  # one character short
    assert "企业名称" in said(validate_company_code("杭州绿源食品有限公司"))


# -- the health declaration --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("没有", "none"), ("都挺好的", "none"), ("不发烧也不咳嗽", "none"), ("有点发烧", "fever"),
     ("不发烧，就是咳嗽", "cough"), ("发热、乏力", "fever,fatigue"), ("浑身没劲", "fatigue")],
)
def test_symptoms_in_words(text: str, value: str) -> None:
    assert validate_symptoms(text) == Valid(value)


@pytest.mark.parametrize("text", ["不舒服", "算了不办了", "你好"])
def test_no_answer_about_symptoms_is_taken_for_none(text: str) -> None:
    assert isinstance(validate_symptoms(text), Invalid)


@pytest.mark.parametrize(
    ("text", "value"),
    [("36.5", "36.5"), ("体温36度5", "36.5"), ("37.8℃", "37.8"), ("36", "36.0"), ("３６.６", "36.6")],
)
def test_temperatures_as_people_write_them(text: str, value: str) -> None:
    assert validate_temperature(text) == Valid(value)


def test_an_implausible_or_missing_temperature_is_explained() -> None:
    assert validate_temperature("45") == Invalid("utter_invalid_temperature_range", {"value": "45"})
    assert validate_temperature("体温正常") == Invalid("utter_invalid_temperature")


@pytest.mark.parametrize(
    ("text", "value"),
    [("没去过", DECLINED), ("没有接触过", DECLINED), ("不是", DECLINED), ("去过武汉", CONFIRMED), ("有", CONFIRMED)],
)
def test_yes_and_no_in_words(text: str, value: str) -> None:
    assert validate_yes_no(text) == Valid(value)


def test_unsure_or_stopping_is_not_a_no() -> None:
    assert validate_yes_no("不太清楚") == Invalid("utter_invalid_yes_no_unsure")
    assert validate_yes_no("算了不办了") == Invalid("utter_invalid_yes_no")



# -- the vehicle registration transfer -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "plate"),
    [("桂A12345", "桂A12345"), ("桂a·12345", "桂A12345"), ("车牌是桂A 12345", "桂A12345"),
     ("新能源车桂AD12345", "桂AD12345"), ("浙A8B9C0", "浙A8B9C0"), ("桂A12345，车架号后六位123456", "桂A12345")],
)
def test_plates_as_people_write_them(text: str, plate: str) -> None:
    assert validate_plate_number(text) == Valid(plate)


def test_plates_that_cannot_be_said_why(said) -> None:  # noqa: ANN001
    for text in ("桂A1234", "A12345", "我也不记得了", "桂A1234567"):
        assert "例如：桂A12345" in said(validate_plate_number(text)), text
    assert "字母I和O" in said(validate_plate_number("桂AO1234"))


@pytest.mark.parametrize(
    ("text", "tail"),
    [("123456", "123456"), ("车架号后六位是123456", "123456"), ("车架号后6位是654321", "654321"),
     ("lfv2a2151k3123456", "123456"), ("车架号LFV2A2151K3123456", "123456"), ("桂A12345 123456", "123456"),
     ("ab12cd", "AB12CD")],
)
def test_vin_tails_alone_in_a_sentence_or_cut_from_the_vin(text: str, tail: str) -> None:
    assert validate_vin_tail(text) == Valid(tail)


def test_vin_tails_that_cannot_be_said_why(said) -> None:  # noqa: ANN001
    assert validate_vin_tail("12345") == Invalid("utter_invalid_vin_tail_length", {"length": 5})
    assert "您输入的是7个" in said(validate_vin_tail("车架号后几位是1234567"))
    assert "不使用字母I、O和Q" in said(validate_vin_tail("12345O"))
    assert "没有找到车架号后6位" in said(validate_vin_tail("不知道在哪看"))
    assert isinstance(validate_vin_tail("桂A12345"), Invalid)  # a plate is not a VIN


@pytest.mark.parametrize(
    ("text", "city"),
    [("青岛", "青岛"), ("青岛市", "青岛市"), ("转到青岛去", "青岛"), ("山东省青岛市", "山东省青岛市"),
     ("是济南吧", "济南")],
)
def test_city_names_as_typed(text: str, city: str) -> None:
    assert validate_city_name(text) == Valid(city)


def test_no_city_in_the_answer(said) -> None:  # noqa: ANN001
    for text in ("1", "", "qingdao"):
        assert "没有看懂您要转入的城市" in said(validate_city_name(text)), text


# -- e-tax guidance: the surcharge's numbers, a deferral's company, months and reason --------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("5万", "50000.00"), ("五万元", "50000.00"), ("50000", "50000.00"), ("3千2", "3200.00"), ("1.5万", "15000.00"),
     ("2,580.50元", "2580.50"), ("欠了8000块", "8000.00"), ("一万二", "12000.00"), ("大概3万", "30000.00"),
     ("10w", "100000.00")],
)
def test_tax_amounts_as_people_write_them(text: str, value: str) -> None:
    assert validate_tax_amount(text) == Valid(value)


def test_tax_amounts_that_cannot_be_used_say_why(said) -> None:  # noqa: ANN001
    assert "确切的金额" in said(validate_tax_amount("十来万吧"))
    assert "确切的金额" in said(validate_tax_amount("2万多"))
    assert "大于0" in said(validate_tax_amount("0"))
    assert "两位" in said(validate_tax_amount("0.001"))
    assert "没有找到" in said(validate_tax_amount("10天"))  # days are no amount
    assert "没有找到" in said(validate_tax_amount("不记得了"))


@pytest.mark.parametrize(
    ("text", "value"),
    [("10天", "10"), ("10", "10"), ("十天", "10"), ("晚了半个月", "约15"), ("一周", "7"), ("两个星期", "14"),
     ("两个月", "约60"), ("一个半月", "约45"), ("逾期20日", "20")],
)
def test_days_late_as_people_write_them(text: str, value: str) -> None:
    assert validate_tax_days(text) == Valid(value)
    assert tax_days(value) == int(value.removeprefix("约"))


def test_days_late_that_cannot_be_used_say_why(said) -> None:  # noqa: ANN001
    assert "确切的天数" in said(validate_tax_days("晚了几天"))
    assert "确切的天数" in said(validate_tax_days("十来天"))
    assert "不加收滞纳金" in said(validate_tax_days("0天"))
    assert "最多3650天" in said(validate_tax_days("9999天"))
    assert said(validate_tax_days("2.5天")) == "请填写整数"
    assert "没有找到" in said(validate_tax_days("5万"))


def test_a_surcharge_question_names_its_numbers_or_not() -> None:
    """In a sentence only numbers with a unit (or after 税款/欠了) count; a rate or a date is no number of either."""
    assert find_tax_amount("税款5万晚交了10天，要交多少滞纳金") == Decimal("50000")
    assert find_tax_days("税款5万晚交了10天，要交多少滞纳金") == (10, False)
    assert find_tax_amount("增值税晚交了一个星期，3万块") == Decimal("30000")
    assert find_tax_days("增值税晚交了一个星期，3万块") == (7, False)
    assert find_tax_amount("欠税8000元逾期20天") == Decimal("8000")
    for text in ("滞纳金是一天万分之五对吧", "没按时交税每天要加收多少", "10月15日到期的税"):
        assert find_tax_amount(text) is None and find_tax_days(text) is None, text
    assert find_tax_amount("12") is None and find_tax_amount("12", alone=True) == Decimal("12")


@pytest.mark.parametrize(
    ("text", "value"),
    [("1个月", "1"), ("三个月", "3"), ("2", "2"), ("延期两个月", "2"), ("俩月", "2"), ("4个月", "4"), ("半年", "6"),
     ("一个季度", "3")],
)
def test_deferral_months(text: str, value: str) -> None:
    assert validate_tax_months(text) == Valid(value)  # more than 3 is explained by the form, with the law's rule


def test_deferral_months_reason_and_company_that_cannot_be_used_say_why(said) -> None:  # noqa: ANN001
    assert "整月" in said(validate_tax_months("90天"))
    assert "确切的月数" in said(validate_tax_months("三四个月"))
    assert "至少为1个月" in said(validate_tax_months("0个月"))
    assert "没有看懂" in said(validate_tax_months("越久越好"))
    assert validate_tax_reason(" 受疫情影响停业两个月，资金不足 ") == Valid("受疫情影响停业两个月，资金不足")
    assert "太简短" in said(validate_tax_reason("没钱"))
    assert "500字以内（您输入了501字）" in said(validate_tax_reason("难" * 501))
    assert validate_tax_taxpayer("查询我本人的个人所得税") == Valid(PERSONAL)
    assert validate_tax_taxpayer("代码是91330106MA2H3K5P13") == Valid("91330106MA2H3K5P13")
    assert "涉税事项" in said(validate_tax_taxpayer("杭州云帆科技有限公司"))
    assert "以企业名义" in said(validate_tax_company("我个人的"))
    assert validate_tax_company("91330106MA2H3K5P13") == Valid("91330106MA2H3K5P13")
    assert validate_tax_period_choice(" 增值税 2026年11月 ") == Valid("增值税 2026年11月")
    assert "没有看懂" in said(validate_tax_period_choice("随便哪个"))


@pytest.mark.parametrize(("text", "value"), [("确认提交", CONFIRMED), ("同意", CONFIRMED), ("不提交", DECLINED),
                                             ("暂不确认", DECLINED), ("算了，先不交了", DECLINED)])
def test_a_refusal_containing_a_confirming_word_is_a_refusal(text: str, value: str) -> None:
    assert validate_confirmation(text) == Valid(value)

