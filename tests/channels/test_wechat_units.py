"""The WeChat channel's pure parts: request checks, message routing, reply texts, the menu file. No stack."""

from __future__ import annotations

import base64
import time

import pytest
import xmltodict
import yaml
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from integrations.channels.common import MAX_MESSAGE_CHARS, TOO_LONG_TEXT, UNSUPPORTED_TEXT
from integrations.channels.state import MemoryChannelState
from integrations.channels.wechat.checks import (
    Rejected,
    check_body,
    dedup_key,
    open_envelope,
    parse_inbound,
    refuse_plaintext,
    sign,
    verify_request,
)
from integrations.channels.wechat.menu import load_menu, parse_menu
from integrations.channels.wechat.replay import admit, replay_ttl
from integrations.channels.wechat.replies import (
    LETTER_MENU_HEADER,
    MENU_HEADER,
    TRUNCATED_NOTE,
    cap,
    choose,
    fit,
    needs_letter,
    passive_xml,
    render,
    size,
    split_text,
)
from integrations.channels.wechat.routing import (
    LOCATION_TEXT,
    UNKNOWN_MENU_TEXT,
    VOICE_NOT_RECOGNISED_TEXT,
    WELCOME_TEXT,
    Ignore,
    Reply,
    Turn,
    route,
)
from integrations.channels.wechat.settings import WeChatSettings
from tests.channels.env import aes_key
from tests.channels.fake_wechat import ACCOUNT, message_xml
from tests.e2e.stack import ROOT

CURRENT, PREVIOUS, OTHER = aes_key(b"current"), aes_key(b"previous"), aes_key(b"other")
CONFIG = WeChatSettings.from_env({
    "WECHAT_TOKEN": "unit-token", "WECHAT_APP_ID": "wxunit", "WECHAT_APP_SECRET": "secret",
    "WECHAT_ENCODING_AES_KEY": CURRENT, "WECHAT_PREVIOUS_ENCODING_AES_KEY": PREVIOUS,
})
OPENID = "oUnitTestOpenId_123456789abc"


def signed(timestamp: int | None = None, nonce: str = "12345") -> dict[str, str]:
    ts = str(timestamp or int(time.time()))
    return {"signature": sign(CONFIG.token, ts, nonce), "timestamp": ts, "nonce": nonce}


def encrypted_query(xml: str, key: str) -> tuple[dict[str, str], str]:
    query = signed()
    encrypted = PrpCrypto(WeChatCrypto(CONFIG.token, key, CONFIG.app_id).key).encrypt(xml, CONFIG.app_id).decode()
    query.update(encrypt_type="aes", msg_signature=sign(CONFIG.token, query["timestamp"], query["nonce"], encrypted))
    return query, f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"


# ---------------------------------------------------------------- signatures, replay window, bodies


def test_a_signed_fresh_request_passes_and_forged_or_stale_ones_are_refused() -> None:
    verify_request(CONFIG, signed())
    forged = {**signed(), "signature": "0" * 40}
    stale = signed(timestamp=int(time.time()) - CONFIG.timestamp_window - 5)
    future = signed(timestamp=int(time.time()) + CONFIG.timestamp_window + 5)
    for query in (forged, stale, future, {}, {**signed(), "signature": "签名"}, {**signed(), "timestamp": "abc"}):
        with pytest.raises(Rejected) as refused:
            verify_request(CONFIG, query)
        assert refused.value.status == 403


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"   ", 400),
        (b"<xml>" + b"a" * (1024 * 1024) + b"</xml>", 413),
        (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><xml>&lol;</xml>', 400),
        (b"<xml><!entity x SYSTEM 'file:///etc/passwd'></xml>", 400),
        ("<xml>中文</xml>".encode("gbk"), 400),
    ],
)
def test_hostile_or_broken_bodies_are_refused_before_parsing(body: bytes, status: int) -> None:
    with pytest.raises(Rejected) as refused:
        check_body(body, CONFIG.max_body_bytes)
    assert refused.value.status == status


@pytest.mark.parametrize(
    "xml",
    ["<xml><MsgType>text", "<html></html>", "<xml>text</xml>", "<xml><MsgType>text</MsgType></xml>",
     "<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType></xml>"],
)
def test_messages_without_the_required_fields_are_refused(xml: str) -> None:
    with pytest.raises(Rejected) as refused:
        parse_inbound(xml)
    assert refused.value.status == 400


def test_safe_mode_decrypts_with_the_current_or_the_previous_key() -> None:
    xml = message_xml(OPENID, "text", {"Content": "你好"}, msg_id=1)
    for key in (CURRENT, PREVIOUS):
        query, body = encrypted_query(xml, key)
        envelope = open_envelope(CONFIG, query, body)
        assert parse_inbound(envelope.xml).content == "你好"
        assert envelope.crypto is not None and envelope.crypto.key == base64.b64decode(key + "=")


def test_safe_mode_refuses_tampered_signatures_and_unknown_keys() -> None:
    xml = message_xml(OPENID, "text", {"Content": "你好"}, msg_id=2)
    query, body = encrypted_query(xml, CURRENT)
    with pytest.raises(Rejected) as tampered:
        open_envelope(CONFIG, {**query, "msg_signature": "f" * 40}, body)
    assert tampered.value.status == 403
    query, body = encrypted_query(xml, OTHER)
    with pytest.raises(Rejected) as unknown_key:
        open_envelope(CONFIG, query, body)
    assert unknown_key.value.status == 400
    without_keys = WeChatSettings.from_env({"WECHAT_TOKEN": "unit-token", "WECHAT_APP_ID": "wxunit"})
    with pytest.raises(Rejected) as not_configured:
        open_envelope(without_keys, query, body)
    assert not_configured.value.status == 503


def test_with_an_aes_key_only_encrypted_messages_are_opened() -> None:
    xml = message_xml(OPENID, "text", {"Content": "你好"}, msg_id=3)
    for query in (signed(), {**signed(), "encrypt_type": "raw"}):
        with pytest.raises(Rejected) as refused:
            open_envelope(CONFIG, query, xml)
        assert refused.value.status == 403
    refuse_plaintext(CONFIG, encrypted_query(xml, CURRENT)[0])
    plaintext_mode = WeChatSettings.from_env({"WECHAT_TOKEN": "unit-token", "WECHAT_APP_ID": "wxunit"})
    assert open_envelope(plaintext_mode, signed(), xml).xml == xml


async def test_a_signed_request_is_admitted_once_and_never_with_another_body() -> None:
    state, query = MemoryChannelState(), signed(nonce="67890")
    assert await admit(state, query, b"<xml>a</xml>", 300) is True
    assert await admit(state, query, b"<xml>a</xml>", 300) is False  # the same request again: a repeat
    with pytest.raises(Rejected) as refused:
        await admit(state, query, b"<xml>b</xml>", 300)
    assert refused.value.status == 403
    assert await admit(state, signed(nonce="67891"), b"<xml>b</xml>", 300) is True
    assert replay_ttl(300) > 2 * 300  # a timestamp 300 s ahead stays acceptable for 600 s


def test_messages_dedup_by_sender_and_msgid_and_events_by_sender_time_and_event() -> None:
    text = parse_inbound(message_xml(OPENID, "text", {"Content": "a"}, create_time=1700000000, msg_id=42))
    assert dedup_key(text) == f"msg:{OPENID}:42"

    def click(key: str, event: str = "CLICK", openid: str = OPENID, at: int = 1700000000) -> str:
        xml = message_xml(openid, "event", {"Event": event, "EventKey": key}, create_time=at)
        return dedup_key(parse_inbound(xml))

    assert click("HELP") == click("HELP") == click("HELP", event="click")  # a retry
    assert len({click("HELP"), click("RENT"), click("HELP", at=1700000001), click("HELP", openid="oOther"),
                click("HELP", event="VIEW")}) == 5
    assert click("HELP").startswith(f"evt:{OPENID}:") and len(click("K" * 30_000)) < 100


# ---------------------------------------------------------------- what each message becomes


def routed(msg_type: str, **fields: object) -> object:
    return route(parse_inbound(message_xml(OPENID, msg_type, fields, msg_id=7)), load_menu())


def test_texts_and_recognised_voice_become_turns_and_other_media_a_polite_reply() -> None:
    assert routed("text", Content="我想申请租房补贴") == Turn("我想申请租房补贴", typed=True)
    assert routed("voice", MediaId="m", Format="amr", Recognition="日本入境政策。") == Turn("日本入境政策", typed=True)
    assert routed("voice", MediaId="m", Format="amr", Recognition="") == Reply(VOICE_NOT_RECOGNISED_TEXT)
    for msg_type in ("image", "video", "shortvideo", "link", "file", "miniprogrampage"):
        assert routed(msg_type, MediaId="m") == Reply(UNSUPPORTED_TEXT)


def test_texts_over_the_length_cap_get_the_notice_instead_of_a_turn() -> None:
    assert routed("text", Content="租" * (MAX_MESSAGE_CHARS + 1)) == Reply(TOO_LONG_TEXT)
    assert routed("voice", MediaId="m", Format="amr", Recognition="租" * 3000) == Reply(TOO_LONG_TEXT)
    assert routed("text", Content="租" * MAX_MESSAGE_CHARS) == Turn("租" * MAX_MESSAGE_CHARS, typed=True)


def test_a_location_in_a_known_city_asks_about_that_city() -> None:
    hangzhou = routed("location", Location_X=30.27, Location_Y=120.15, Scale=15, Label="浙江省杭州市西湖区文三路")
    assert hangzhou == Turn('/inform{"city": "杭州"}')
    assert routed("location", Location_X=0, Location_Y=0, Scale=1, Label="太平洋") == Reply(LOCATION_TEXT)


def test_events_subscribe_welcomes_click_maps_to_its_payload_and_the_rest_are_silent() -> None:
    assert routed("event", Event="subscribe") == Turn("/greet", prefix=WELCOME_TEXT)
    assert routed("event", Event="subscribe", EventKey="qrscene_rent_subsidy") == Turn(
        "/rent_subsidy_apply", prefix=WELCOME_TEXT
    )
    assert routed("event", Event="SCAN", EventKey="campus", Ticket="t") == Turn("/job_fair_search")
    assert routed("event", Event="CLICK", EventKey="ENTRY_CONTROL_QUERY") == Turn("/entry_control_query")
    assert routed("event", Event="CLICK", EventKey="NO_SUCH_KEY") == Reply(UNKNOWN_MENU_TEXT)
    for event in ("unsubscribe", "VIEW", "LOCATION", "TEMPLATESENDJOBFINISH", "something_new"):
        assert isinstance(routed("event", Event=event, EventKey="x"), Ignore)


# ---------------------------------------------------------------- reply texts


MENU = render([{"text": "请选择", "buttons": [{"title": "申请租房补贴", "payload": "/rent_subsidy_apply"},
                                           {"title": "出入境政策查询", "payload": "/entry_control_query"},
                                           {"title": "转人工", "payload": "/request_human"}]}]).menu


def test_buttons_become_one_numbered_menu_across_the_turns_messages() -> None:
    rendered = render([
        {"text": "请选择业务", "buttons": [{"title": "申请租房补贴", "payload": "/rent_subsidy_apply"},
                                      {"title": "出入境政策查询", "payload": "/entry_control_query"}]},
        {"text": "或者", "buttons": [{"title": "转人工", "payload": "/request_human"}]},
        {"image": "https://example.org/a.png"},
    ])
    assert rendered.parts[0] == f"请选择业务\n{MENU_HEADER}\n1. 申请租房补贴\n2. 出入境政策查询"
    assert rendered.parts[1] == f"或者\n{MENU_HEADER}\n3. 转人工"
    assert rendered.parts[2] == "图片：https://example.org/a.png"
    assert [(o["key"], o["payload"]) for o in rendered.menu] == [
        ("1", "/rent_subsidy_apply"), ("2", "/entry_control_query"), ("3", "/request_human")]


def test_buttons_under_a_numbered_list_are_lettered_so_a_number_is_never_misread() -> None:
    fairs = "为您找到3场招聘会：\n1. 杭州数字经济专场\n2. 上海综合双选会（已满）\n3. 线上专场\n回复“报名第N场”报名。"
    register = [{"title": f"报名第{n}场", "payload": f'/job_fair_register{{"ordinal": {n}}}'} for n in (1, 3)]
    rendered = render([{"text": fairs, "buttons": register},
                       {"text": "需要帮忙吗？", "buttons": [{"title": "转人工", "payload": "/request_human"}]}])
    assert rendered.parts[0] == f"{fairs}\n{LETTER_MENU_HEADER}\nA. 报名第1场\nB. 报名第3场"
    assert rendered.parts[1] == f"需要帮忙吗？\n{MENU_HEADER}\n1. 转人工"
    assert choose("b", rendered.menu) == choose("Ｂ", rendered.menu) == '/job_fair_register{"ordinal": 3}'
    assert choose("报名第3场", rendered.menu) == '/job_fair_register{"ordinal": 3}'
    assert choose("1", rendered.menu) == "/request_human"
    assert choose("2", rendered.menu) is None and needs_letter("2", rendered.menu)  # the list's 2nd fair? ask
    assert not needs_letter("13800000001", rendered.menu) and not needs_letter("2", MENU)


@pytest.mark.parametrize(
    ("reply", "payload"),
    [("2", "/entry_control_query"), ("２", "/entry_control_query"), (" 2. ", "/entry_control_query"),
     ("1号", "/rent_subsidy_apply"), ("出入境政策查询", "/entry_control_query"), ("4", None), ("0", None),
     ("我想问问日本", None)],
)
def test_a_number_or_a_title_maps_back_to_the_button(reply: str, payload: str | None) -> None:
    assert choose(reply, MENU) == payload
    assert choose(reply, []) is None and choose(reply, None) is None


def test_short_replies_are_merged_into_one_message() -> None:
    assert fit(["您好！", "请问您要办理什么业务？"], 2048) == ["您好！\n\n请问您要办理什么业务？"]


def test_long_replies_are_split_by_bytes_without_breaking_characters_or_losing_text() -> None:
    text = "\n".join(f"第{i}条：" + "租房补贴政策说明" * 20 for i in range(30))  # about 15 KB of UTF-8
    pieces = split_text(text, 2048)
    assert len(pieces) > 1 and all(size(p) <= 2048 for p in pieces)
    assert "\n".join(pieces) == text  # cut at line ends: nothing lost or altered
    one_line = "政" * 1000  # 3000 bytes, no line break: cut between characters
    cut = split_text(one_line, 2048)
    assert [size(p) for p in cut] == [2046, 954] and "".join(cut) == one_line
    chunks = fit(["短消息", text, "最后一条"], 2048)
    assert all(size(c) <= 2048 for c in chunks)
    assert chunks[0].startswith("短消息\n\n第0条") and chunks[-1].endswith("最后一条")


def test_more_than_five_messages_are_capped_with_a_note() -> None:
    chunks = [f"第{i}段" * 300 for i in range(8)]
    capped = cap(chunks, 5, 2048)
    assert len(capped) == 5 and capped[:4] == chunks[:4]
    assert capped[4].endswith(TRUNCATED_NOTE) and size(capped[4]) <= 2048
    assert cap(chunks[:3], 5, 2048) == chunks[:3]


def test_passive_replies_are_wechat_xml_and_encrypted_in_safe_mode() -> None:
    plain = xmltodict.parse(passive_xml(ACCOUNT, OPENID, "您好]]><b>", None, "nonce"))["xml"]
    assert plain["ToUserName"] == OPENID and plain["FromUserName"] == ACCOUNT and plain["MsgType"] == "text"
    assert plain["Content"].startswith("您好") and abs(int(plain["CreateTime"]) - time.time()) < 5
    crypto = WeChatCrypto(CONFIG.token, PREVIOUS, CONFIG.app_id)
    encrypted = passive_xml(ACCOUNT, OPENID, "日本入境政策如下", crypto, "nonce1")
    envelope = xmltodict.parse(encrypted)["xml"]
    assert "日本" not in encrypted and envelope["Nonce"] == "nonce1"
    decrypted = crypto.decrypt_message(encrypted, envelope["MsgSignature"], envelope["TimeStamp"], "nonce1")
    assert xmltodict.parse(decrypted)["xml"]["Content"] == "日本入境政策如下"


# ---------------------------------------------------------------- the menu file


def domain_intents() -> set[str]:
    intents: set[str] = set()
    for path in (ROOT / "domain").glob("*.yml"):
        intents.update(yaml.safe_load(path.read_text("utf-8")).get("intents") or [])
    return intents


def test_every_menu_entry_and_qr_scene_sends_an_intent_of_the_domain() -> None:
    menu = load_menu()
    payloads = [*menu.clicks.values(), *menu.scenes.values()]
    assert len(menu.clicks) >= 8
    assert {p.removeprefix("/") for p in payloads} <= domain_intents()
    assert all("payload" not in sub for top in menu.body["button"] for sub in top.get("sub_button", [top]))


@pytest.mark.parametrize(
    "menu",
    [
        {"button": [{"name": f"菜单{i}", "type": "click", "key": f"K{i}", "payload": "/help"} for i in range(4)]},
        {"button": [{"name": "很长很长的一级菜单", "type": "click", "key": "K", "payload": "/help"}]},
        {"button": [{"name": "菜单", "sub_button": [{"type": "click", "name": f"项{i}", "key": f"K{i}",
                                                    "payload": "/help"} for i in range(6)]}]},
        {"button": [{"name": "菜单", "type": "click", "key": "K"}]},
        {"button": [{"name": "甲", "type": "click", "key": "K", "payload": "/help"},
                    {"name": "乙", "type": "click", "key": "K", "payload": "/greet"}]},
        {"button": [{"name": "网页", "type": "view"}]},
    ],
)
def test_menus_outside_wechats_limits_are_refused(menu: dict) -> None:
    with pytest.raises(ValueError):
        parse_menu(menu)
