"""Personal data that used to get past the masking: each of these reached the conversation log in clear.

The exact strings come from a probe of the running product; the property tests then write resident IDs, mobile
numbers, bank cards and plates in many ways (separators, full-width digits, labels glued or not, JSON, Chinese
sentences) and check that no hidden part survives, while amounts, dates, case numbers and references stay as
they are.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from datetime import date
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered

from bot.masking import mask_event, mask_log_text, mask_text
from services import masking as sandbox_masking

ID, PHONE = "330106199503140023", "13800000001"
_FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})

# ------------------------------------------------------------------------------------------------
# The probe's strings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "/intent{json}" only in form: the intent is no intent name, so it is a sentence with braces
        ("/身份证330106199503140023手机13800000001{}", "/身份证330*************23手机138****0001{}"),
        # labels glued to the number
        ("ID330106199503140023", "ID330*************23"),
        ("tel13800000001", "tel138****0001"),
        ("sfz330106199503140023", "sfz330*************23"),
        ("mobile+8613800000001", "mobile+86138****0001"),
        ("No6222021234567890123", "No***************0123"),
        # an intent name that is a glued label and a number is masked too
        ('/tel13800000001{"a":1}', '/tel138****0001{"a":1}'),
        # blocks of 6/4/4/4
        ("330106 1995 0314 0023", "330*** **** **** **23"),
        ("330106-1995-0314-0023", "330***-****-****-**23"),
        # full-width digits: found, and the kept digits stay as written
        ("３３０１０６１９９５０３１４００２３", "３３０*************２３"),
        ("手机１３８０００００００１", "手机１３８****０００１"),
        ("身份证３３０１０６　１９９５　０３１４　００２３", "身份证３３０***　****　****　**２３"),
    ],
)
def test_probe_strings_are_masked(text: str, expected: str) -> None:
    assert mask_text(text) == expected


# ------------------------------------------------------------------------------------------------
# Street addresses: the region stays, what identifies the place goes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("杭州市西湖区文三路90号", "杭州市西湖区******"),
        ("我家住在文三路90号附近", "我家住在******附近"),
        ("浙江省杭州市萧山区市心路168号", "浙江省杭州市萧山区*******"),  # 市心 is the road's, not a city
        ("杭州市西湖区翠苑一区3幢2单元501室", "杭州市西湖区*************"),
        ("余杭区良渚街道良渚新村5幢301", "余杭区良渚街道*********"),
        ("地址：文三路478号华星时代广场A座1201室", "地址：" + "*" * 20),
        ("杭州市西湖区文三路９０号", "杭州市西湖区******"),
    ],
)
def test_addresses_keep_only_the_region(text: str, expected: str) -> None:
    assert mask_text(text) == expected


# ------------------------------------------------------------------------------------------------
# Passports and Hong Kong/Macau/Taiwan permits, when labelled


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("护照号E12345678", "护照号E******78"),
        ("passport no. E12345678", "passport no. E******78"),
        ("港澳通行证：C12345678", "港澳通行证：C******78"),
        ("回乡证H1234567801", "回乡证H********01"),
        ("台胞证 12345678", "台胞证 1*****78"),
        ("香港身份证A123456(7)", "香港身份证A*****6(7)"),
    ],
)
def test_labelled_travel_documents_are_masked(text: str, expected: str) -> None:
    assert mask_text(text) == expected


# ------------------------------------------------------------------------------------------------
# Events: values in lists, nested JSON, keys, numbers, echoes


def _dumped(masked: dict) -> str:
    return json.dumps(masked, ensure_ascii=False)


def test_slot_holding_a_json_text_is_masked_by_its_keys() -> None:
    """A custom action stores a JSON text in a slot: the name has no pattern, only its key tells."""
    value = json.dumps({"applicant": {"person_name": "张三", "phone": PHONE}}, ensure_ascii=False)
    masked = mask_event(SlotSet("application_json", value).as_dict())
    assert json.loads(masked["value"]) == {"applicant": {"person_name": "张*", "phone": "138****0001"}}


def test_keys_written_by_the_user_are_masked() -> None:
    event = UserUttered("你好", metadata={f"身份证{ID}": True, "answers": [{f"tel{PHONE}": 1}]}).as_dict()
    dumped = _dumped(mask_event(event))
    assert ID not in dumped and PHONE not in dumped


@pytest.mark.parametrize("number", [13800000001.0, 330106199503140023.0])
def test_numbers_stored_as_floats_are_masked(number: float) -> None:
    """str() of a large float is 3.3010619950314003e+17: 16 of the ID's 18 digits."""
    masked = mask_event(SlotSet("contact", number).as_dict())
    assert str(int(number))[3:10] not in str(masked["value"]) and "3010619950314" not in str(masked["value"])


def test_bot_echo_of_a_known_code_in_full_width_is_masked() -> None:
    masked = mask_event(BotUttered("您输入的是４８２９１３，对吗？").as_dict(), {"482913": "sms_code"})
    assert masked["text"] == "您输入的是******，对吗？"


def test_bot_echo_of_an_address_is_masked() -> None:
    masked = mask_event(BotUttered("已为您登记地址：杭州市西湖区文三路90号3幢501室").as_dict())
    assert masked["text"] == "已为您登记地址：杭州市西湖区" + "*" * len("文三路90号3幢501室")


def test_deeply_nested_payload_is_masked_not_a_crash() -> None:
    """Nested JSON too deep to walk used to raise RecursionError (the turn failed); now it is plain text."""
    payload = "/inform" + '{"a":' * 2000 + f'"{ID}"' + "}" * 2000
    masked = mask_text(payload)
    assert ID not in masked and "330*************23" in masked


def test_deeply_nested_event_is_withheld_not_a_crash() -> None:
    metadata: dict = {"phone": PHONE}
    for _ in range(sys.getrecursionlimit()):
        metadata = {"m": metadata}
    event = {**UserUttered("手机" + PHONE).as_dict(), "sender_id": "rest:abc", "metadata": metadata}
    masked = mask_event(event)
    assert masked["event"] == "user" and masked["sender_id"].startswith("u_")
    assert PHONE not in _dumped(masked) and "rest:abc" not in _dumped(masked)


# ------------------------------------------------------------------------------------------------
# Logs: escaped writings of the same data


def test_log_line_with_json_escaped_full_width_digits_is_masked() -> None:
    line = json.dumps({"text": "手机１３８０００００００１"})  # \uff11\uff13\uff18…
    masked = mask_log_text(line)
    assert PHONE not in unicodedata.normalize("NFKC", json.loads(masked)["text"])


def test_log_line_with_url_encoded_name_and_phone_is_masked() -> None:
    masked = mask_log_text("GET /apply?name=%E5%BC%A0%E4%B8%89&phone=%2B86%2013800000001 200")
    assert "张三" not in unquote(masked) and PHONE not in unquote(masked)


def test_log_line_with_a_bytes_repr_is_masked() -> None:
    masked = mask_log_text(repr("我叫张三".encode()))
    assert "张三" not in masked and "\\xe4\\xb8\\x89" not in masked


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GET /identity/verify?phone=%2B8613800000001 200", "GET /identity/verify?phone=+86138****0001 200"),
        ("phone=" + "13800000001".translate(_FULL_WIDTH), "phone=１３８****０００１"),
        ("phone=138 0000 0001", "phone=138 **** 0001"),
        ("id=330106 1995 0314 0023", "id=330*** **** **** **23"),
        ("account=6222021234567890123", "account=***************0123"),
    ],
)
def test_sandbox_log_masking_catches_the_same_writings(line: str, expected: str) -> None:
    """The services sandbox masks its own logs (access-log query strings included) with its own, simpler rules."""
    assert sandbox_masking.mask_text(line) == expected


# ------------------------------------------------------------------------------------------------
# Property tests: personal numbers in many writings never survive; traps always do

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_LABELS = ("", "身份证号：", "身份证", "手机", "电话", "卡号", "车牌")
_LABELS += ("ID", "ID:", "tel", "Tel:", "phone", "mobile", "No.")
_BEFORE = ("", "您好，我的", "请帮我查一下", "麻烦核对", "信息如下：")
_AFTER = ("", "，谢谢", "。", "的办理进度", "，请尽快处理")


def _id_check_char(body: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def _luhn_check_digit(body: str) -> str:
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str(-total % 10)


def _digits(count: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=count, max_size=count)


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    area = draw(st.integers(110000, 659999))
    birth = draw(st.dates(date(1920, 1, 1), date(2025, 12, 31)))
    body = f"{area}{birth:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + _id_check_char(body)


@st.composite
def mobile_numbers(draw: st.DrawFn) -> str:
    return "1" + draw(st.sampled_from("3456789")) + draw(_digits(9))


@st.composite
def bank_cards(draw: st.DrawFn) -> str:
    length = draw(st.integers(16, 19))
    body = draw(st.sampled_from(["62", "4", "5"]))
    body += draw(_digits(length - len(body) - 1))
    return body + _luhn_check_digit(body)


@st.composite
def plates(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from(_PROVINCES)) + draw(st.sampled_from(_PLATE_LETTERS))
    digits = draw(_digits(5))
    kind = draw(st.sampled_from(["regular", "letter", "new energy", "new energy large"]))
    if kind == "letter":
        return head + draw(st.sampled_from(_PLATE_LETTERS)) + digits[1:]
    if kind == "new energy":
        return head + draw(st.sampled_from("DF")) + digits
    if kind == "new energy large":
        return head + digits + draw(st.sampled_from("DF"))
    return head + digits


def _grouped(value: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, start = [], 0
    for size in sizes:
        parts.append(value[start : start + size])
        start += size
    return sep.join(p for p in parts + [value[start:]] if p)


@st.composite
def written(draw: st.DrawFn, kind: str, value: str) -> str:
    """The value as a user might type it: blocks, separators, +86, lower-case x, full-width."""
    sep = draw(st.sampled_from(["", " ", "-", "\u3000"]))
    if kind == "id":
        text = _grouped(value, draw(st.sampled_from([(6, 8), (6, 4, 4)])), sep)
        text = text.lower() if draw(st.booleans()) else text
    elif kind == "phone":
        text = draw(st.sampled_from(["", "+86", "+86 ", "0086", "+86-"])) + _grouped(value, (3, 4), sep)
    elif kind == "card":
        text = _grouped(value, (4, 4, 4, 4), sep)
    else:
        text = value[:2] + draw(st.sampled_from(["", "·", " ", "-"])) + value[2:]
    return text.translate(_FULL_WIDTH) if draw(st.booleans()) else text


@st.composite
def in_context(draw: st.DrawFn, writing: str) -> str:
    label = draw(st.sampled_from(_LABELS))
    glue = "" if not label or label.endswith(("：", ":", ".")) else draw(st.sampled_from(["", " ", "："]))
    text = label + glue + writing
    if draw(st.booleans()):
        return json.dumps({"x": text}, ensure_ascii=draw(st.booleans()))
    return draw(st.sampled_from(_BEFORE)) + text + draw(st.sampled_from(_AFTER))


def _compact(text: str) -> str:
    """What a reader gets back from a text: ASCII digits, no separators, one case."""
    return re.sub(r"[\s\-·]", "", unicodedata.normalize("NFKC", text)).upper()


def _survives(kind: str, value: str, masked: str) -> bool:
    """Whether the value's hidden part can still be read: an ID's digits 4–16, a phone's middle 4 digits together
    with the rest, a card's all-but-last-4, a plate's chars between the province+letter and the last 2."""
    seen, value = _compact(masked), value.upper()
    if kind == "id":
        return value[3:16] in seen
    if kind == "phone":
        return value[:7] in seen or value[3:] in seen
    if kind == "card":
        return value[:-4] in seen
    return value[2:-2] in seen


_VALUES = st.one_of(
    st.tuples(st.just("id"), resident_ids()),
    st.tuples(st.just("phone"), mobile_numbers()),
    st.tuples(st.just("card"), bank_cards()),
    st.tuples(st.just("plate"), plates()),
)


@st.composite
def personal_texts(draw: st.DrawFn) -> tuple[str, str, str]:
    kind, value = draw(_VALUES)
    return kind, value, draw(in_context(draw(written(kind, value))))


_QUICK = settings(max_examples=300, deadline=None, database=None)  # about a second each


@_QUICK
@given(personal_texts())
def test_no_personal_number_survives_any_writing(case: tuple[str, str, str]) -> None:
    kind, value, text = case
    masked = mask_text(text)
    readable = json.loads(masked)["x"] if text.startswith("{") else masked  # \uff11 escapes decoded
    assert not _survives(kind, value, readable), masked
    assert mask_text(masked) == masked  # idempotent
    if not text.startswith("{"):
        assert len(masked) == len(text)  # entity spans stay valid


@st.composite
def traps(draw: st.DrawFn) -> str:
    """Numbers that are not personal: amounts, dates, case numbers, the 12345 hotline, references, articles."""
    day = draw(st.dates(date(1990, 1, 1), date(2030, 12, 31)))
    n = draw(st.integers(1, 9_999_999))
    trap = draw(
        st.sampled_from(
            [
                f"补贴{n}元",
                f"¥{n:,}",
                f"RMB {n:,}.50",
                f"共{n}.{n % 100:02d}元",
                f"{day:%Y-%m-%d}",
                f"{day.year}年{day.month}月{day.day}日",
                f"{day:%Y%m%d}",
                f"{day:%Y/%m/%d} 09:30:00",
                f"案号({day.year})浙0106民初{n % 10000}号",
                f"（{day.year}）粤0192民初{n % 10000}号",
                "请拨打12345政务服务热线",
                f"申请编号ZF{day:%Y%m%d}{n % 100000:05d}",
                f"报名号BM{day.year}{n % 1000000:06d}",
                f"JF{n % 10000:04d}",
                f"根据《办法》第{n % 100}条",
            ]
        )
    )
    trap = trap.translate(_FULL_WIDTH) if draw(st.booleans()) else trap
    return draw(st.sampled_from(_BEFORE)) + trap + draw(st.sampled_from(_AFTER))


@_QUICK
@given(traps())
def test_traps_survive_unchanged(text: str) -> None:
    assert mask_text(text) == text
