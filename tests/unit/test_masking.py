"""Personal-data masking: what must be masked, and the traps that must stay as they are."""

from __future__ import annotations

import json
import logging

import pytest
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot.masking import (
    MaskingFilter,
    MaskingFormatter,
    asks_for_code,
    expected_reply_values,
    hash_sender_id,
    install_log_masking,
    mask_event,
    mask_text,
    mask_value,
    personal_values,
)

ID = "330106199503140023"
PHONE = "13812340001"

# ------------------------------------------------------------------------------------------------
# mask_text: personal data is masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # resident ID numbers (first 3 + last 2), also lower-case x, spaces, old 15-digit numbers
        (f"身份证号{ID}", "身份证号330*************23"),
        ("身份证：33010619950314002x。", "身份证：330*************2x。"),
        ("ID 330106 19950314 0023", "ID 330*** ******** **23"),
        ("老身份证330106950314002", "老身份证330**********02"),
        # mobile numbers, also with spaces, dashes and +86
        (f"手机{PHONE}", "手机138****0001"),
        ("电话 138 1234 0001 谢谢", "电话 138 **** 0001 谢谢"),
        ("+86 138-1234-0001", "+86 138-****-0001"),
        ("+8613812340001", "+86138****0001"),
        ("0086 13812340001", "0086 138****0001"),
        # bank cards: last 4 digits only
        ("银行卡6222021234567890123", "银行卡***************0123"),
        ("卡号 6222 0212 3456 7890", "卡号 **** **** **** 7890"),
        ("card 6222-0212-3456-7890-123", "card ****-****-****-***0-123"),
        # unified social credit codes: first 2 + last 2
        ("统一社会信用代码91330106MA2B3C4D5E", "统一社会信用代码91**************5E"),
        ("信用代码：52330000MJ0000000X", "信用代码：52**************0X"),
        # plates: province + letter + last 2
        ("车牌桂A12345", "车牌桂A***45"),
        ("浙AD12345新能源车", "浙A****45新能源车"),
        ("粤B·3K7M9", "粤B·***M9"),
        # e-mail
        ("邮箱zhang.san@example.com", "邮箱z********@example.com"),
        ("13812340001@163.com", "1**********@163.com"),
        # labelled verification codes and passwords
        ("【政务服务】您的验证码为 482913，5分钟内有效。", "【政务服务】您的验证码为 ******，5分钟内有效。"),
        ("验证码：482913", "验证码：******"),
        ("驗證碼是482913", "驗證碼是******"),
        ("my verification code is 4829", "my verification code is ******"),
        ("密码是Abc@12345", "密码是******"),
        # body temperatures (health data): labelled or with their unit; the label and unit stay readable
        ("我要打卡，体温36.5", "我要打卡，体温**.*"),
        ("今天37.8℃，有点咳嗽", "今天**.*℃，有点咳嗽"),
        ("体温：36度5", "体温：**度*"),
    ],
)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我叫张三", "我叫张*"),
        ("我叫张三，身份证号330106199503140023", "我叫张*，身份证号330*************23"),
        ("你好，我叫王小明想申请租房补贴", "你好，我叫王**想申请租房补贴"),
        ("我是李四", "我是李*"),
        ("我是张三的妈妈", "我是张*的妈妈"),
        ("我是刘德华，电话13812340001", "我是刘**，电话138****0001"),
        ("姓名：欧阳娜娜", "姓名：欧阳**"),
        ("姓名:陈明 手机:13812340001", "姓名:陈* 手机:138****0001"),
        ("我的名字是赵丽颖", "我的名字是赵**"),
        ("名字叫孙悟空", "名字叫孙**"),
        ("本人陈明，申请租房补贴", "本人陈*，申请租房补贴"),
        ("申请人：司马相如", "申请人：司马**"),
        ("我叫欧阳修想办理", "我叫欧阳*想办理"),
        ("我叫張三，電話13912345678", "我叫張*，電話139****5678"),  # Traditional characters
        ("我是陳大文", "我是陳**"),
        ("My name is 李雷, email lilei@qq.com", "My name is 李*, email l****@qq.com"),
        ("Hi, I'm 韩梅梅 from Hangzhou", "Hi, I'm 韩** from Hangzhou"),
        ("我叫张三身份证330106199503140023", "我叫张*身份证330*************23"),
        # the parties of a court case or a mediation agreement (a company keeps its name)
        ("原告：陈晓，女，汉族。被告：赵某某", "原告：陈*，女，汉族。被告：赵**"),
        ("被申请人：王建国；第三人: 刘洋", "被申请人：王**；第三人: 刘*"),
        ("被告：杭州某某房产经纪有限公司", "被告：杭州某某房产经纪有限公司"),
    ],
)
def test_announced_names_are_masked(text: str, expected: str) -> None:
    assert mask_text(text) == expected


# ------------------------------------------------------------------------------------------------
# mask_text: traps that must NOT be masked


@pytest.mark.parametrize(
    "text",
    [
        "租房补贴每月800元，一年共9600.00元",
        "补贴金额¥12,000，已发放",
        "RMB 1,500.50",
        "2026-11-26",
        "20261126",
        "2026年11月26日上午10:30",
        "2026/11/26 09:00:00",
        "案号(2020)粤0192民初1234号",
        "（2021）浙0106民初5678号开庭时间",
        "请拨打12345政务服务热线",
        "验证码已发送至您的手机，请查收",  # a label without a code
        "482913",  # a bare 6-digit number is not a secret
        "申请编号ZF2026112600001",
        "报名号BM2026001234，JF0001",
        "受理号ZF20261126000001已受理",
        "根据《办法》第十二条和第3条",
        "2026年",
        "邮编310000",
        "共3场双选会，200个岗位，第2场",
        "请在5分钟内输入",
        "我是学生",
        "我是想问一下租房补贴怎么申请",
        "我是在杭州工作的",
        "我是温州人",
        "我是杭州人",
        "我是江苏的",
        "我是程序员",
        "我是高中学历",
        "我是黄码",
        "我是第一次申请",
        "我是应届毕业生",
        "我是本科",
        "我是来咨询的",
        "我叫什么名字不重要",
        "请输入您的姓名和身份证号",
        "请提供姓名、身份证号和手机号",
        "姓名不匹配，请核对",
        "姓名：陈*",  # already masked
        "手机号138****0001",
        "身份证330*************23",
        "rent_subsidy_apply",
        "utter_ask_id_number",
        "action_listen",
        "I am a graduate looking for jobs in 杭州",
        "Python工程师，月薪15000-20000",
        "我想查美国的入境政策",
        "罗湖口岸今天开放吗",
        "京东方招聘",
        "我在新Apple店",
        "赣ADIDAS专卖店",
        # public places and roads without a house number identify nobody (addresses are masked with one)
        "杭州市",
        "请到西湖区政务服务中心3楼办理",
        "坐地铁2号线到文三路",
        "公交5路几点发车",
        "文三路和学院路路口",
        "护照办理需要3个工作日",
        "{}",
    ],
)
def test_traps_are_not_masked(text: str) -> None:
    assert mask_text(text) == text


def test_mixed_sentence() -> None:
    text = (
        "您好，我叫陈明，身份证330106199503140023，手机138-1234-0001，"
        "2026年11月26日申请的ZF2026112600001号租房补贴800元，车牌浙A12345，热线12345。"
    )
    assert mask_text(text) == (
        "您好，我叫陈*，身份证330*************23，手机138-****-0001，"
        "2026年11月26日申请的ZF2026112600001号租房补贴800元，车牌浙A***45，热线12345。"
    )


VIN = "LFV2A2151K3123456"  # 黄海's sample car: check character 1 in position 9 is correct


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a full VIN keeps only its manufacturer code (WMI), labelled or not, in any case
        (f"我的车架号是{VIN}", "我的车架号是LFV**************"),
        (f"车辆识别代号：{VIN.lower()}", "车辆识别代号：lfv**************"),
        (f"VIN {VIN}", "VIN LFV**************"),
        (f"车辆{VIN}要转到青岛", "车辆LFV**************要转到青岛"),
        # the last 6 prove ownership to the transfer service: masked whole
        ("车架号后六位是123456", "车架号后六位是******"),
        ("车架号后6位：ＡＢ3456", "车架号后6位：******"),
        ("GET /vehicles/桂A12345?vin_tail=123456&city=青岛", "GET /vehicles/桂A***45?vin_tail=******&city=青岛"),
    ],
)
def test_vins_are_masked(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "LFV2A2150K3123456",  # 17 VIN characters, but the check character is wrong: some other reference
        "ZD202611300001",  # a transfer application number
        "请输入车架号后六位",
        "车架号在哪里看",
    ],
)
def test_vin_traps_are_not_masked(text: str) -> None:
    assert mask_text(text) == text


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [("vin", VIN, "LFV**************"), ("vin_tail", "123456", "******"), ("车架号", VIN, "LFV**************")],
)
def test_vin_fields_are_masked(name: str, value: str, expected: str) -> None:
    assert mask_value(name, value) == expected


def test_masking_is_idempotent_and_keeps_length() -> None:
    text = f"我叫欧阳娜娜，身份证{ID}，电话{PHONE}，卡号6222021234567890123，车牌桂A12345"
    once = mask_text(text)
    assert mask_text(once) == once
    assert len(once) == len(text)


def test_known_values_mask_echoes() -> None:
    known = {"张三": "person_name", "123456": "sms_code"}
    assert mask_text("张三您好，您的申请已提交", known) == "张*您好，您的申请已提交"
    assert mask_text("123456", known) == "******"
    assert mask_text("91234567", known) == "91234567"  # not inside another number


# ------------------------------------------------------------------------------------------------
# payloads


def test_button_payload_entities_are_masked_by_name() -> None:
    assert mask_text(f'/inform{{"id_number":"{ID}"}}') == '/inform{"id_number":"330*************23"}'
    assert (
        mask_text('/inform{"person_name": "张三", "phone": "13812340001"}')
        == '/inform{"person_name": "张*", "phone": "138****0001"}'
    )
    assert mask_text('/job_fair_register{"fair_index": 2}') == '/job_fair_register{"fair_index": 2}'
    assert mask_text("/greet") == "/greet"


# ------------------------------------------------------------------------------------------------
# mask_value


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("person_name", "陈明", "陈*"),
        ("person_name", "欧阳修", "欧阳*"),
        ("person_name", "欧阳娜娜", "欧阳**"),
        ("person_name", "陈小明", "陈**"),
        ("person_name", "John Smith", "J*** S****"),
        ("id_number", ID, "330*************23"),
        ("id_number", "12345", "*****"),  # invalid, still personal
        ("phone", PHONE, "138****0001"),
        ("phone", 13812340001, "138****0001"),
        ("plate_number", "桂A12345", "桂A***45"),
        ("credit_code", "91330106MA2B3C4D5E", "91**************5E"),
        ("bank_account", "6222021234567890123", "***************0123"),
        ("identity_token", "eyJhbGciOi.abc.def", "******"),
        ("verification_id", "7f1c9a", "******"),
        ("sms_code", "482913", "******"),
        ("city", "杭州", "杭州"),
        ("case_number", "(2020)粤0192民初1234号", "(2020)粤0192民初1234号"),
        ("rent_amount", 800, 800),
        ("requested_slot", "id_number", "id_number"),
        ("note", "我叫张三", "我叫张*"),
        ("person_name", None, None),
        ("verified", True, True),
    ],
)
def test_mask_value(name: str, value: object, expected: object) -> None:
    assert mask_value(name, value) == expected


def test_mask_value_recurses() -> None:
    value = {
        "applicant": {"name": "陈明", "id_number": ID, "phone": PHONE},
        "fairs": [{"name": "杭州春季双选会", "city": "杭州"}],
        "names": ["我叫李四"],
    }
    assert mask_value("profile", value) == {
        "applicant": {"name": "陈*", "id_number": "330*************23", "phone": "138****0001"},
        "fairs": [{"name": "杭州春季双选会", "city": "杭州"}],
        "names": ["我叫李*"],
    }
    assert mask_value("person_name", ["张三", "李四"]) == ["张*", "李*"]


# ------------------------------------------------------------------------------------------------
# mask_event


def _user_event(text: str, entities: list[dict], intent: str = "inform", confidence: float = 0.91) -> dict:
    ranking = [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": 0.05}]
    event = UserUttered(
        text,
        intent={"name": intent, "confidence": confidence},
        entities=entities,
        parse_data={"intent_ranking": ranking},
        input_channel="rest",
        message_id="6f0c2d",
        metadata={"phone": PHONE, "chat_user": "rest:abc"},
    ).as_dict()
    event["sender_id"] = "wx_openid_abc"
    return event


def test_user_event_is_masked_and_intents_survive() -> None:
    text = "张三 330106199503140023"
    entities = [
        {"entity": "person_name", "value": "张三", "start": 0, "end": 2, "extractor": "DIETClassifier"},
        {"entity": "id_number", "value": ID, "start": 3, "end": 21, "text": ID},
    ]
    event = _user_event(text, entities)
    original = json.loads(json.dumps(event))
    masked = mask_event(event)

    assert event == original  # the input is not changed
    assert masked["text"] == "张* 330*************23"
    assert masked["parse_data"]["text"] == "张* 330*************23"
    assert masked["parse_data"]["entities"][0]["value"] == "张*"
    assert masked["parse_data"]["entities"][1]["value"] == "330*************23"
    assert masked["parse_data"]["entities"][1]["text"] == "330*************23"
    assert masked["parse_data"]["entities"][1]["start"] == 3
    assert masked["metadata"]["phone"] == "138****0001"
    assert masked["metadata"]["chat_user"].startswith("u_")
    assert masked["sender_id"] == hash_sender_id("wx_openid_abc")
    assert masked["parse_data"]["intent"] == {"name": "inform", "confidence": 0.91}
    assert masked["parse_data"]["intent_ranking"] == original["parse_data"]["intent_ranking"]
    for key in ("event", "timestamp", "input_channel", "message_id"):
        assert masked[key] == original[key]
    dumped = json.dumps(masked, ensure_ascii=False)
    assert "张三" not in dumped and ID not in dumped and PHONE not in dumped and "wx_openid_abc" not in dumped


def test_bare_name_reply_is_masked_through_its_entity() -> None:
    event = _user_event("王五", [{"entity": "person_name", "value": "王五", "start": 0, "end": 2}])
    masked = mask_event(event)
    assert masked["text"] == "王*"
    assert "王五" not in json.dumps(masked, ensure_ascii=False)


def test_payload_user_event() -> None:
    payload = f'/inform{{"id_number":"{ID}","person_name":"陈明"}}'
    entities = [{"entity": "id_number", "value": ID}, {"entity": "person_name", "value": "陈明"}]
    masked = mask_event(_user_event(payload, entities, confidence=1.0))
    assert masked["text"] == '/inform{"id_number":"330*************23","person_name":"陈*"}'
    assert masked["parse_data"]["intent"]["confidence"] == 1.0
    dumped = json.dumps(masked, ensure_ascii=False)
    assert ID not in dumped and "陈明" not in dumped


def test_bot_event_echoes_and_buttons_are_masked() -> None:
    event = BotUttered(
        f"陈明您好，请确认：身份证{ID}，手机{PHONE}",
        data={
            "buttons": [
                {"title": "确认 陈明", "payload": f'/inform{{"id_number":"{ID}"}}'},
                {"title": "修改", "payload": "/deny"},
            ],
            "custom": {"phone": PHONE, "fair": "杭州春季双选会"},
        },
        metadata={"utter_action": "utter_confirm_identity"},
    ).as_dict()
    masked = mask_event(event, {"陈明": "person_name"})
    assert masked["text"] == "陈*您好，请确认：身份证330*************23，手机138****0001"
    assert masked["data"]["buttons"][0] == {
        "title": "确认 陈*",
        "payload": '/inform{"id_number":"330*************23"}',
    }
    assert masked["data"]["buttons"][1] == {"title": "修改", "payload": "/deny"}
    assert masked["data"]["custom"] == {"phone": "138****0001", "fair": "杭州春季双选会"}
    assert masked["metadata"] == {"utter_action": "utter_confirm_identity"}


@pytest.mark.parametrize(
    ("slot", "value", "expected"),
    [
        ("person_name", "陈明", "陈*"),
        ("id_number", ID, "330*************23"),
        ("phone", PHONE, "138****0001"),
        ("identity_token", "tok_abc123", "******"),
        ("sms_code", "482913", "******"),
        ("city", "杭州", "杭州"),
        ("requested_slot", "id_number", "id_number"),
        ("rent_subsidy_result", {"application_no": "ZF2026112600001", "amount": 800}, None),
    ],
)
def test_slot_events(slot: str, value: object, expected: object) -> None:
    event = SlotSet(slot, value).as_dict()
    masked = mask_event(event)
    assert masked["name"] == slot
    assert masked["value"] == (value if expected is None else expected)
    assert masked["timestamp"] == event["timestamp"]


def test_other_events_keep_their_names() -> None:
    for event in (
        ActionExecuted("action_submit_rent_subsidy", policy="RulePolicy", confidence=0.98).as_dict(),
        ActiveLoop("identity_form").as_dict(),
        SessionStarted(metadata={"first_name": "Ming", "chat_id": 123456789}).as_dict(),
    ):
        masked = mask_event(event)
        for key in ("event", "timestamp", "name", "policy", "confidence"):
            assert masked.get(key) == event.get(key)
    masked = mask_event(SessionStarted(metadata={"first_name": "Ming", "chat_id": 123456789}).as_dict())
    assert masked["metadata"]["first_name"] == "M***"
    assert masked["metadata"]["chat_id"].startswith("u_")


def test_personal_values_collects_entities_slots_and_names() -> None:
    event = _user_event(
        "我叫李雷，手机13812340001", [{"entity": "phone", "value": PHONE, "start": 8, "end": 19}]
    )
    assert personal_values(event) == {PHONE: "phone", "李雷": "person_name"}
    assert personal_values(SlotSet("person_name", "陈明").as_dict()) == {"陈明": "person_name"}


def test_sender_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_HASH_SECRET", "secret-one")
    first = hash_sender_id("13812340001")
    assert first.startswith("u_") and len(first) == 18
    assert hash_sender_id("13812340001") == first
    assert hash_sender_id(first) == first  # hashing twice is a no-op
    monkeypatch.setenv("PII_HASH_SECRET", "secret-two")
    assert hash_sender_id("13812340001") != first
    assert hash_sender_id(None) is None
    # conversation ids carry their channel: one user id on two channels is two senders, and a REST client
    # choosing a hash-like id still gets it hashed
    assert hash_sender_id("rest:13812340001") != hash_sender_id("web:13812340001")
    assert hash_sender_id("rest:u_0123456789abcdef").startswith("u_")


def test_sender_hash_warns_without_secret(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    import bot.settings

    monkeypatch.delenv("PII_HASH_SECRET", raising=False)
    monkeypatch.setattr(bot.settings, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="bot.settings"):
        assert hash_sender_id("abc").startswith("u_")
    assert "PII_HASH_SECRET" in caplog.text


# ------------------------------------------------------------------------------------------------
# logging


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("test", logging.INFO, __file__, 1, msg, args, None)


def test_masking_formatter_and_filter() -> None:
    formatter = MaskingFormatter("%(levelname)s %(message)s")
    line = formatter.format(_record("user %s said %s", "rest:1", f"我叫张三，身份证{ID}"))
    assert line == "INFO user rest:1 said 我叫张*，身份证330*************23"

    record = _record("phone=%s", PHONE)
    assert MaskingFilter().filter(record)
    assert record.getMessage() == "phone=138****0001"

    escaped = json.dumps({"text": "我叫张三"})  # structlog's JSON renderer escapes Chinese
    assert "张三" not in formatter.format(_record(escaped))


def test_masking_formatter_masks_tracebacks() -> None:
    try:
        raise ValueError(f"bad id {ID}")
    except ValueError:
        import sys

        record = logging.LogRecord("test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = MaskingFormatter().format(record)
    assert ID not in line and "330*************23" in line


@pytest.fixture
def restore_logging(monkeypatch: pytest.MonkeyPatch):
    """install_log_masking changes process-wide logging: undo it so other tests see plain logging."""
    import bot.masking

    factory = logging.getLogRecordFactory()
    handlers = list(logging.getLogger().handlers)
    monkeypatch.setattr(bot.masking, "_installed", False)
    yield
    logging.setLogRecordFactory(factory)
    for handler in handlers:
        for installed in [f for f in handler.filters if isinstance(f, MaskingFilter)]:
            handler.removeFilter(installed)


def test_install_log_masking_masks_every_logger(caplog, restore_logging) -> None:
    install_log_masking()
    install_log_masking()  # idempotent
    log = logging.getLogger("some.library.created.later")
    with caplog.at_level(logging.INFO):
        log.info("ID %s phone %s", ID, PHONE)
        log.info({"person": "我叫李四"})
        log.info("broken %s %s", "only one arg 13812340001")
    assert ID not in caplog.text and PHONE not in caplog.text and "李四" not in caplog.text
    assert "330*************23" in caplog.text and "138****0001" in caplog.text


@pytest.mark.parametrize(
    ("field", "reply", "expected"),
    [
        ("person_name", "陈明", {"陈明": "person_name"}),
        ("person_name", " 欧阳娜娜 ", {"欧阳娜娜": "person_name"}),
        ("person_name", "Li Lei", {"Li Lei": "person_name"}),
        ("person_name", "补贴多少钱啊我想问问", {}),
        ("person_name", "不知道", {}),
        ("person_name", "取消", {}),
        ("sms_code", "482913", {"482913": "sms_code"}),
        ("sms_code", "我没收到验证码", {}),
        ("id_number", "33010619950314", {"33010619950314": "id_number"}),
        ("id_number", "我不想给", {}),
        ("city", "杭州", {}),
        (None, "陈明", {}),
    ],
)
def test_expected_reply_values(field: str | None, reply: str, expected: dict) -> None:
    assert expected_reply_values(field, reply) == expected


def test_asks_for_code() -> None:
    assert asks_for_code("验证码已发送至138****0001，请输入6位验证码。")
    assert asks_for_code("Please enter the verification code")
    assert not asks_for_code("【政务服务】您的验证码为 482913，5分钟内有效。")  # carries the code itself
    assert not asks_for_code("请输入您的姓名")
    assert not asks_for_code(None)
