"""Personal-data masking for Chinese text, slot/entity values, Rasa events and log records.

Rule of the house: ID numbers, phone numbers, names, plates, credit codes, bank accounts and secrets
never reach a log, the conversation log or the operator console in clear. Raw values live only in the
live tracker.

Masks keep the length of what they replace where they can (``张三`` → ``张*``), so entity
``start``/``end`` spans stored next to a masked text still point at the right characters.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.settings import secret_from_env

logger = logging.getLogger(__name__)

SECRET_MASK = "******"  # secrets are replaced by a fixed mask: even their length is not shown
_STAR = "*"


def _words(*chunks: str) -> tuple[str, ...]:
    """Space-separated word lists, kept in plain text so they are easy to review and extend."""
    return tuple(" ".join(chunks).split())


# ----------------------------------------------------------------------------------------------------
# Low-level helpers


def _keep(value: str, head: int, tail: int) -> str:
    """Mask every letter/digit/Han char except the first `head` and last `tail` of them; separators stay.

    Too short to keep anything without revealing most of it → mask all of them.
    """
    positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    short = len(positions) <= head + tail
    hidden = set(positions if short else positions[head : len(positions) - tail])
    return "".join(_STAR if i in hidden else ch for i, ch in enumerate(value))


_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"  # a number glued to letters is a reference number (ZF2026…), not PII
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"

# ----------------------------------------------------------------------------------------------------
# Field maskers (used by mask_text for what its patterns find, and by mask_value for known fields)


def mask_id_number(value: str) -> str:
    """Resident ID: first 3 + last 2 (330*************23), the same rule as the services sandbox."""
    return _keep(value, 3, 2)


def mask_phone(value: str) -> str:
    """Mainland mobile: 138****0001; a +86/0086 prefix and separators are kept as they were."""
    match = re.fullmatch(r"\s*((?:\+|00)?86[\s-]?)?(.*?)\s*", value)
    prefix, number = (match.group(1) or "", match.group(2)) if match else ("", value)
    digits = re.sub(r"\D", "", number)
    if len(digits) == 11:
        # mask digits 4–7 of the 11, keeping any spaces or dashes the user typed
        seen, out = 0, []
        for ch in number:
            if ch.isdigit():
                out.append(_STAR if 3 <= seen < 7 else ch)
                seen += 1
            else:
                out.append(ch)
        return prefix + "".join(out)
    return prefix + _keep(number, 3, 4)


def mask_bank_account(value: str) -> str:
    """Bank card or account: only the last 4 digits stay."""
    return _keep(value, 0, 4)


def mask_credit_code(value: str) -> str:
    """Unified social credit code: first 2 + last 2."""
    return _keep(value, 2, 2)


def mask_plate(value: str) -> str:
    """Vehicle plate: province + letter + last 2 (桂A***45)."""
    return _keep(value, 2, 2)


def mask_email(value: str) -> str:
    """Email: first character of the mailbox and the domain stay (z*******@example.com)."""
    local, sep, domain = value.partition("@")
    if not sep:
        return _keep(value, 1, 0)
    return (local[:1] + _STAR * (len(local) - 1) if len(local) > 1 else _STAR) + "@" + domain


def mask_secret(_value: Any) -> str:
    """Codes, tokens, passwords: nothing of them stays."""
    return SECRET_MASK


# Compound surnames keep both characters (欧阳娜娜 → 欧阳**).
_COMPOUND_SURNAMES = frozenset(
    _words(
        "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 轩辕 端木 独孤",
        "南宫 西门 百里 呼延 歐陽 司馬 諸葛 長孫 軒轅 獨孤 南宮",
    )
)
# Common single surnames (simplified and traditional). Only used where a name is guessed from "我是X"/"本人X",
# so rare surnames that are also everyday words (学, 想, 在, 本, 公, 房 …) are deliberately left out.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江尹薛闫严段雷侯龙史陶黎贺顾毛郝龚邵万钱覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷"
    "晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝封"
    "張陳劉楊黃趙吳孫馬鄭謝韓馮鄧蕭葉蘇呂盧鍾譚陸賈韋鄒龍陶賀顧郝龔萬錢嚴湯齊喬龐顏聶魯耿蘭俞紀淩畢單塗駱藍"
    "辛靳鮑華饒車項蘆婁竇岑費衛閻欒隋劉"
)


def mask_person_name(value: str) -> str:
    """Chinese name: the surname stays (陈明 → 陈*, 欧阳修 → 欧阳*); Latin names keep each word's initial."""
    name = value.strip()
    if not name:
        return value
    if re.fullmatch(rf"[{_HAN}·•]+", name):
        head = 2 if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else 1
        return name[:head] + _STAR * (len(name) - head)
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0)[0] + _STAR * (len(m.group(0)) - 1), name)


# ----------------------------------------------------------------------------------------------------
# Pseudonymous user ids

# Only for development: any real deployment sets PII_HASH_SECRET.
_DEV_SECRET = "govbot-development-pii-secret"
_HASHED_ID = re.compile(r"u_[0-9a-f]{16}")


def _hash_secret() -> bytes:
    return secret_from_env("PII_HASH_SECRET", _DEV_SECRET, "user ids are hashed").encode("utf-8")


def hash_sender_id(sender_id: Any) -> Any:
    """Keyed hash (HMAC-SHA256) of a user id: stable per user, so the console can group turns, but not
    reversible or guessable without the secret (a plain SHA-256 of a phone-number-like id is brute-forced
    in seconds)."""
    if sender_id is None:
        return None
    text = str(sender_id)
    if _HASHED_ID.fullmatch(text):  # already hashed: masking twice must not change it
        return text
    return "u_" + hmac.new(_hash_secret(), text.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


# ----------------------------------------------------------------------------------------------------
# Field names

_FIELD_MASKERS: dict[str, Callable[[str], str]] = {}
for _names, _masker in (
    (
        "person_name name_of_person full_name real_name first_name last_name username applicant_name "
        "contact_name holder_name 姓名",
        mask_person_name,
    ),
    ("id_number id_card idcard id_no identity_number 身份证号", mask_id_number),
    ("phone phone_number mobile mobile_phone telephone tel 手机号", mask_phone),
    ("plate_number plate license_plate 车牌号", mask_plate),
    ("credit_code social_credit_code unified_social_credit_code 统一社会信用代码", mask_credit_code),
    ("bank_account bank_card account_number card_number payout_account 银行卡号", mask_bank_account),
    ("email e_mail email_address", mask_email),
    (
        "identity_token token access_token refresh_token verification_id sms_code verification_code "
        "code_input password passwd secret authorization 验证码 密码",
        mask_secret,
    ),
):
    for _name in _words(_names):
        _FIELD_MASKERS[_name] = _masker

# Keys that carry a user id: they are hashed like sender_id, so they stay linkable but not readable.
_ID_KEYS = frozenset(
    _words("sender_id sender user_id chat_id chat_user openid unionid from_user from_user_name")
)

PERSONAL_FIELDS = frozenset(_FIELD_MASKERS) | _ID_KEYS


def _masker_for(field: str | None) -> Callable[[str], str] | None:
    return _FIELD_MASKERS.get((field or "").strip().lower()) if field else None


# ----------------------------------------------------------------------------------------------------
# Free-text patterns

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
# Only labelled codes count: a bare 6-digit number may be a postal code, an amount or a date part.
_LABELLED_CODE = re.compile(
    r"(?P<label>(?:短信)?(?:验证码|驗證碼|校验码|校驗碼|动态码|動態碼|动态密码|動態密碼)"
    r"|(?:SMS |verification |verify )code|OTP)"
    r"(?P<sep>\s*(?:是|为|為|:|：|is|=)?\s*)(?P<secret>\d{4,8})" + _NOT_ALNUM_AFTER,
    re.IGNORECASE,
)
_LABELLED_PASSWORD = re.compile(
    r"(?P<label>密码|密碼|password|passwd)(?P<sep>\s*(?:是|为|為|:|：|is|=)\s*)(?P<secret>[^\s，。,;；]{1,64})",
    re.IGNORECASE,
)
_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
# GB 11643: 6-digit area code, birth date, 3-digit sequence, check char; spaces between the blocks allowed.
_ID18 = re.compile(
    _NOT_ALNUM_BEFORE + rf"[1-9]\d{{5}} ?(?:18|19|20)\d{{2}}{_DATE} ?\d{{3}}[\dXx]" + _NOT_ALNUM_AFTER
)
_ID15 = re.compile(_NOT_ALNUM_BEFORE + rf"[1-9]\d{{5}}\d{{2}}{_DATE}\d{{3}}" + _NOT_ALNUM_AFTER)
# GB 32100: registration authority (1-9, A, N, Y), category digit, area code, 9-char organisation code,
# check char. Letters I, O, S, V, Z never occur, so ZF2026… application numbers cannot match.
_CC = "0-9A-HJ-NPQRTUWXY"
_CREDIT_CODE = re.compile(_NOT_ALNUM_BEFORE + rf"[1-9ANY][1-9]\d{{6}}[{_CC}]{{10}}" + _NOT_ALNUM_AFTER)
_BANK_CARD = re.compile(
    _NOT_ALNUM_BEFORE
    + r"(?:\d{16,19}|\d{4}(?P<sep>[ -])\d{4}(?P=sep)\d{4}(?P=sep)\d{4}(?:(?P=sep)\d{1,3})?)"
    + _NOT_ALNUM_AFTER
)
_PHONE = re.compile(
    r"(?:(?<![0-9A-Za-z+])(?:\+|00)86[\s-]?|(?<![0-9A-Za-z])(?=1))"
    r"1[3-9]\d(?P<sep>[\s-]?)\d{4}(?P=sep)\d{4}" + _NOT_ALNUM_AFTER
)
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼滬魯蘇贛閩貴" + "使领領"
# A plate always has digits: 新Apple or 赣ADIDAS is English in a Chinese sentence, not a plate.
_PLATE_CHAR = "A-HJ-NP-Za-hj-np-z"
_PLATE = re.compile(
    rf"[{_PROVINCES}][{_PLATE_CHAR}][\s·•]?(?=[{_PLATE_CHAR}]{{0,4}}\d)[{_PLATE_CHAR}0-9]{{5,6}}[挂學学警]?"
    + _NOT_ALNUM_AFTER
)

# Ordered: e-mails before phones (13800000001@qq.com), labelled secrets before numbers, IDs before bank cards.
_PATTERNS: list[tuple[re.Pattern[str], Callable[[str], str]]] = [
    (_EMAIL, mask_email),
    (_ID18, mask_id_number),
    (_CREDIT_CODE, mask_credit_code),
    (_BANK_CARD, mask_bank_account),
    (_ID15, mask_id_number),
    (_PHONE, mask_phone),
    (_PLATE, mask_plate),
]

# ----------------------------------------------------------------------------------------------------
# Announced names: 我叫张三 / 姓名：李四 / 我是王五 …

# A label with a colon (or 我叫/名字是) is trusted for any 2–4 Han chars; "我是X"/"本人X" and a label without
# colon only when X starts with a common surname, so 我是学生 / 我是想问 / 我是在杭州 stay as they are.
_NAME_TRIGGER = re.compile(
    r"(?P<trusted>(?:我叫|我名叫|我的名字(?:是|叫)|名字(?:是|叫)|(?:姓名|联系人|聯繫人|联络人|申请人|申請人|持卡人|收款人|"
    r"户主|戶主|法定代表人|法人代表)\s*(?:是|为|為)?\s*[:：]|姓名(?:是|为|為)|my name is|name\s*[:：])\s*)"
    r"|(?P<guessed>(?:我是|我係|本人(?:是)?|姓名|i am|i'm)\s*)",
    re.IGNORECASE,
)
_HAN_RUN = re.compile(rf"[{_HAN}]{{1,12}}")
_NAME_END_WORDS = _words(
    "身份证 身份證 证件 證件 手机 手機 电话 電話 号码 號碼 今年 现在 現在 目前 申请 申請 办理 辦理 请问 "
    "請問 想要 需要 联系 聯繫 来自 來自 住在 家住 工作 毕业 畢業 性别 性別 年龄 年齡 出生 先生 女士 小姐 "
    "同学 同學 老师 老師 师傅 師傅 阿姨 想 要 是 的 在 住 请 請 我 你 您 他 她 男 女 岁 歲 已 刚 剛 跟 从 "
    "從 来 來 啊 呀 哦 呢 吧 了 嗯 哈 喔 身 电 電 手 号 號 需 帮 幫 给 給 还 還 就 都 办 辦 问 問 咨 諮 "
    "今 现 現 和 与 與 及 或"
)
# First words after a trigger that are never a name (some start with a surname character).
_NOT_A_NAME_START = _words(
    "什么 什麼 啥 不 没 沒 谁 誰 一 个 個 这 這 那 哪 第 本 新 老 小孩 孩子 学生 學生 想 在 来 來 要 从 "
    "從 刚 剛 已 高中 高校 高级 高級 高新 黄码 黃碼 黄色 黃色 红码 紅碼 绿码 綠碼 中国 中國 中专 中專 "
    "中介 中心 毕业 畢業 应届 程序 文员 文員 江苏 江蘇 江西 温州 溫州 金华 金華 宁波 寧波 宁夏 寧夏 武汉 "
    "武漢 成都 郑州 鄭州 苏州 蘇州 常州 石家庄 沈阳 瀋陽 黄山 黃山 马鞍山 安徽 安庆 云南 雲南 贵州 貴州 "
    "广东 廣東 广西 廣西 广州 廣州 海南 吉林 福建 山东 山西 河南 河北 湖北 湖南 甘肃 青海 新疆 西藏 台湾 "
    "臺灣 香港 澳门 澳門 浙江 杭州 上海 北京 天津 重庆 深圳 南京 南昌 南宁 合肥 长沙 昆明 太原 济南 青岛 "
    "厦门 大连 东莞 东北 东方 西安 兰州 洛阳 余杭 萧山 蕭山 曾经 曾經 和你 华为 華為 马上 馬上 党员 黨員 "
    "陆续 方便 方法 白天 常住 常年 申请 申請 房东 房東 牛人 外地 本地 农民 司机 個體 个体 企业 企業 公司 "
    "法人 残疾 退休 退役 自由 研究 博士 硕士 碩士 本科 专科 專科"
)
_NOT_A_NAME_END = _words(
    "人 市 省 县 縣 区 區 镇 鎮 村 路 街 的 者 员 員 生 户 戶 码 碼 局 厅 廳 处 處 站 校 院"
)


_END_CHAR = re.compile("[" + "".join(w for w in _NAME_END_WORDS if len(w) == 1) + "]")
_END_WORD = re.compile("|".join(w for w in _NAME_END_WORDS if len(w) > 1))


def _name_length(run: str) -> int:
    """How many Han chars after a trigger are the name: up to the first word that cannot be part of it."""
    # a single char may be a name's own 2nd char (王和平); a longer word right after the surname is not
    ends = [m.start() for m in (_END_CHAR.search(run, 2), _END_WORD.search(run, 1)) if m]
    cut = min(ends, default=len(run))
    # no clear end: a name is at most 3 chars, 4 with a compound surname (欧阳娜娜)
    return min(cut, 4 if run[:2] in _COMPOUND_SURNAMES else 3)


def find_announced_names(text: str) -> list[tuple[int, int]]:
    """Spans of names the writer announces (我叫张三, 姓名：李四, 我是王五); see the trigger notes above."""
    spans: list[tuple[int, int]] = []
    for trigger in _NAME_TRIGGER.finditer(text):
        run = _HAN_RUN.match(text, trigger.end())
        if not run or text[run.end() : run.end() + 1] == _STAR:  # already masked (欧阳**)
            continue
        length = _name_length(run.group(0))
        name = run.group(0)[:length]
        if not 2 <= len(name) <= 4 or name.startswith(_NOT_A_NAME_START):
            continue
        if trigger.group("guessed") is not None:
            has_surname = name[:2] in _COMPOUND_SURNAMES or name[0] in _SURNAMES
            if not has_surname or name.endswith(_NOT_A_NAME_END):
                continue
        spans.append((run.start(), run.start() + length))
    return spans


# ----------------------------------------------------------------------------------------------------
# Rasa payloads: /inform{"id_number":"330106199503140023"}

_PAYLOAD = re.compile(r"^(?P<head>\s*/[^{\s]+)(?P<json>\{.*\})(?P<tail>\s*)$", re.DOTALL)


def _mask_payload(text: str, known: Mapping[str, str]) -> str | None:
    """Mask a Rasa intent payload's entities by their names; None when the text is not such a payload."""
    match = _PAYLOAD.match(text)
    if not match:
        return None
    try:
        entities = json.loads(match.group("json"))
    except ValueError:
        return None
    if not isinstance(entities, dict):
        return None
    compact = ", " not in match.group("json") and ": " not in match.group("json")
    masked = _mask_field_value(None, entities, known)
    if masked == entities:  # nothing personal: keep the payload byte for byte
        return text
    body = json.dumps(masked, ensure_ascii=False, separators=(",", ":") if compact else None)
    return match.group("head") + body + match.group("tail")


# ----------------------------------------------------------------------------------------------------
# Public API: text


def _replace_known(text: str, known: Mapping[str, str]) -> str:
    """Mask values already known to be personal (entities, slots, earlier turns) wherever they are echoed."""
    for raw in sorted(known, key=len, reverse=True):
        if raw not in text:
            continue
        masked = mask_value(known[raw], raw)
        if masked == raw:
            continue
        if raw.isascii():  # 123456 must not hit the middle of 91234567
            pattern = _NOT_ALNUM_BEFORE + re.escape(raw) + _NOT_ALNUM_AFTER
            text = re.sub(pattern, lambda _, masked=masked: masked, text)
        else:
            text = text.replace(raw, masked)
    return text


def mask_text(text: str, known: Mapping[str, str] | None = None) -> str:
    """Mask personal data in free text (Chinese, Traditional or mixed with English).

    `known` maps raw values already known to be personal to their field name (e.g. {"张三": "person_name"}),
    so a bare "张三" or a bot reply "张三您好" is masked too.
    """
    if not isinstance(text, str) or not text:
        return text
    known = known or {}
    payload = _mask_payload(text, known)
    if payload is not None:
        return payload
    text = _replace_known(text, known)
    for pattern in (_LABELLED_CODE, _LABELLED_PASSWORD):
        text = pattern.sub(lambda m: m.group("label") + m.group("sep") + SECRET_MASK, text)
    for pattern, masker in _PATTERNS:
        text = pattern.sub(lambda m, masker=masker: masker(m.group(0)), text)
    for start, end in reversed(find_announced_names(text)):
        text = text[:start] + mask_person_name(text[start:end]) + text[end:]
    return text


# ----------------------------------------------------------------------------------------------------
# Public API: values


def _mask_field_value(field: str | None, value: Any, known: Mapping[str, str]) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dict):
        # "name" next to other personal keys ({"name": "陈明", "phone": …}) is a person's name; alone it
        # may be a job fair's or a form's name, which the console needs to read.
        personal_sibling = any(k in PERSONAL_FIELDS for k in map(str, value))
        return {
            k: _mask_field_value("person_name" if k == "name" and personal_sibling else str(k), v, known)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_mask_field_value(field, item, known) for item in value]
    key = (field or "").strip().lower()
    if key in _ID_KEYS:
        return hash_sender_id(value)
    masker = _masker_for(key)
    if masker is not None:
        return masker(str(value))
    if isinstance(value, str):
        return mask_text(value, known)
    if isinstance(value, int) and abs(value) >= 10**10:  # a phone or card number stored as a number
        masked = mask_text(str(value), known)
        return value if masked == str(value) else masked
    return value


def mask_value(slot_or_entity_name: str | None, value: Any) -> Any:
    """Mask a slot/entity/field value by its name (person_name → 陈*, id_number → 330*************23,
    sms_code → ******); unknown names fall back to mask_text for strings. Lists and dicts are masked
    item by item (dict items by their own keys)."""
    return _mask_field_value(slot_or_entity_name, value, {})


# ----------------------------------------------------------------------------------------------------
# Public API: Rasa events

# Values under these keys are names, numbers and flags the console is built on: never touched.
_EVENT_KEEP = frozenset(
    _words(
        "event timestamp name policy confidence intent input_channel message_id hide_rule_turn model_id",
        "assistant_id date_time kill_on_user_msg use_text_for_featurization rasa_sdk_version",
    )
)
_PARSE_DATA_KEEP = frozenset(_words("intent intent_ranking response_selector message_id"))
_ENTITY_KEEP = frozenset(_words("entity start end extractor confidence_entity role group processors"))


def _collect(field: str | None, value: Any, out: dict[str, str]) -> None:
    """Remember raw personal values (by field) so their echoes elsewhere can be masked."""
    if isinstance(value, dict):
        personal_sibling = any(k in PERSONAL_FIELDS for k in map(str, value))
        for k, v in value.items():
            _collect("person_name" if k == "name" and personal_sibling else str(k), v, out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(field, item, out)
    elif value is not None and not isinstance(value, bool) and _masker_for(field):
        raw = str(value).strip()
        if len(raw) >= 2:
            out.setdefault(raw, str(field).lower())


def _entities(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = list(event.get("entities") or [])
    parse_data = event.get("parse_data")
    if isinstance(parse_data, dict):
        found += parse_data.get("entities") or []
    return [e for e in found if isinstance(e, dict)]


def personal_values(event: Mapping[str, Any]) -> dict[str, str]:
    """Raw personal values carried by one event (entities, slots, payload entities, announced names),
    mapped to their field name. Callers keep them briefly in memory to mask later echoes (a bot reply
    "张三您好" has no pattern to find the name by)."""
    out: dict[str, str] = {}
    parse_data = event.get("parse_data") or {}
    texts = [t for t in (event.get("text"), parse_data.get("text")) if isinstance(t, str)]
    for entity in _entities(event):
        name = entity.get("entity")
        _collect(name, entity.get("value"), out)
        _collect(name, entity.get("text"), out)
        start, end = entity.get("start"), entity.get("end")
        for text in texts:
            if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
                _collect(name, text[start:end], out)
    if event.get("event") == "slot":
        _collect(event.get("name"), event.get("value"), out)
    for text in texts:
        payload = _PAYLOAD.match(text)
        if payload:
            with contextlib.suppress(ValueError):
                _collect(None, json.loads(payload.group("json")), out)
        for start, end in find_announced_names(text):
            out.setdefault(text[start:end], "person_name")
    return out


# Short replies that are never a name, even when a name was asked for.
_NOT_A_NAME_REPLY = frozenset(
    _words(
        "你好 您好 好的 是的 不是 不对 对的 谢谢 没有 取消 算了 不办了 不要了 转人工 人工 客服 不知道 不想说",
        "为什么 干什么 干嘛 什么 怎么办 再见 拜拜 帮助 菜单 返回 重新 重来 确认 可以 不可以 嗯嗯 哈哈",
    )
)
_QUESTION_WORDS = re.compile("吗|嗎|呢|么|麼|多少|哪|几|幾|怎|啥|谁|誰|补贴|補貼|申请|申請|办理|辦理|政策|不")
_BARE_CODE = re.compile(r"\s*\d{4,8}\s*")
_BARE_TOKEN = re.compile(r"\s*[0-9A-Za-z\-_.@+]{4,40}\s*")
_ASKS_FOR_CODE = re.compile(r"验证码|驗證碼|校验码|校驗碼|动态码|動態碼|verification code", re.IGNORECASE)


def expected_reply_values(field: str | None, text: Any) -> dict[str, str]:
    """The user's bare reply when the bot has just asked for a personal field (Rasa forms set
    `requested_slot` before asking): "陈明" or "482913" alone carry no pattern or label. Only replies
    that fit the field's shape count, so a question asked instead ("补贴多少钱") stays readable."""
    masker = _masker_for(field)
    if masker is None or not isinstance(text, str):
        return {}
    reply = text.strip()
    if masker is mask_person_name:
        fits = bool(
            re.fullmatch(rf"[{_HAN}]{{2,4}}|[{_HAN}·•]{{4,16}}|[A-Za-z]+(?: [A-Za-z]+){{0,2}}", reply)
        )
        fits = fits and reply not in _NOT_A_NAME_REPLY and not reply.startswith(_NOT_A_NAME_START)
        fits = fits and not _QUESTION_WORDS.search(reply)
    elif masker is mask_secret:
        fits = bool(
            _BARE_CODE.fullmatch(reply) or _BARE_TOKEN.fullmatch(reply) and any(c.isdigit() for c in reply)
        )
    else:
        fits = bool(_BARE_TOKEN.fullmatch(reply.replace(" ", "")))
    return {reply: str(field).lower()} if fits else {}


def asks_for_code(bot_text: Any) -> bool:
    """A bot message asking for a verification code (and not carrying one): the next bare number is it."""
    return (
        isinstance(bot_text, str)
        and bool(_ASKS_FOR_CODE.search(bot_text))
        and SECRET_MASK not in mask_text(bot_text)
    )


def _mask_entity(entity: Any, known: Mapping[str, str]) -> Any:
    if not isinstance(entity, dict):
        return _mask_field_value(None, entity, known)
    name = entity.get("entity")
    masked = {}
    for key, value in entity.items():
        if key in _ENTITY_KEEP:
            masked[key] = value
        else:  # value, text, additional_info …: masked as the entity's field (id_number → 330***…)
            masked[key] = _mask_field_value(name if key in ("value", "text") else key, value, known)
    return masked


def _mask_mapping(data: dict[str, Any], keep: frozenset[str], known: Mapping[str, str]) -> dict[str, Any]:
    masked: dict[str, Any] = {}
    for key, value in data.items():
        if key in keep:
            masked[key] = value
        elif key == "entities" and isinstance(value, list):
            masked[key] = [_mask_entity(e, known) for e in value]
        elif key == "parse_data" and isinstance(value, dict):
            masked[key] = _mask_mapping(value, _PARSE_DATA_KEEP, known)
        else:  # text, data (buttons, custom), metadata, action_text, slot values …
            masked[key] = _mask_field_value(key, value, known)
    return masked


def mask_event(event: Mapping[str, Any], known_values: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A deep copy of a Rasa event dict (as event brokers receive it) with every personal value masked.

    Intent names, confidences, rankings, action/slot names and timestamps are kept as they are;
    `sender_id` (and other user-id keys) become keyed hashes. `known_values` (raw → field name) masks
    echoes of values seen in earlier events of the same conversation; the event's own entities and slots
    are always used.
    """
    event = copy.deepcopy(dict(event))
    known = {**(known_values or {}), **personal_values(event)}
    masked = _mask_mapping(event, _EVENT_KEEP, known)
    if event.get("event") == "slot" and "value" in event:  # masked as its slot (person_name → 陈*)
        masked["value"] = _mask_field_value(event.get("name"), event["value"], known)
    return masked


# ----------------------------------------------------------------------------------------------------
# Logging

_JSON_HAN_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _unescape_han(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    return chr(code) if 0x3400 <= code <= 0x9FFF else match.group(0)


def mask_log_text(text: str) -> str:
    """mask_text for log lines; JSON-escaped Chinese (\\u5f20…) is unescaped first so names are found."""
    if "\\u" in text:
        text = _JSON_HAN_ESCAPE.sub(_unescape_han, text)
    return mask_text(text)


def _mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Format the message now and mask it: every handler and formatter (also later ones) sees it masked."""
    if getattr(record, "_pii_masked", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not hide the data it carries, nor crash the caller
        message = f"{record.msg} {record.args!r}"
    try:
        record.msg, record.args = mask_log_text(message), ()
    except Exception:  # never let a log call fail, never let an unmasked message through
        record.msg, record.args = "[log message withheld: masking failed]", ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_log_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_log_text(record.stack_info)
    record._pii_masked = True
    return record


class MaskingFilter(logging.Filter):
    """Handler/logger filter that masks a record's message (and traceback) in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        _mask_record(record)
        return True


class MaskingFormatter(logging.Formatter):
    """Formatter that masks the finished line: the last line of defence for handlers configured elsewhere."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_log_text(super().format(_mask_record(record)))


_installed = False


def install_log_masking() -> None:
    """Mask every log record of this process: a record factory (covers loggers and handlers created later,
    Rasa's structlog output included, as it goes through stdlib logging) plus a filter on the current root
    handlers. Idempotent; call it once at start-up in every process."""
    global _installed
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
    if _installed:
        return
    previous_factory = logging.getLogRecordFactory()

    def masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _mask_record(previous_factory(*args, **kwargs))

    logging.setLogRecordFactory(masking_factory)
    _installed = True
