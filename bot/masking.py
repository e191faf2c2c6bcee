"""Personal-data masking for Chinese text, slot/entity values, Rasa events and log records.

Rule of the house: ID numbers, phone numbers, names, plates, credit codes, bank accounts, addresses, travel
documents and secrets never reach a log, the conversation log or the operator console in clear. Raw values live
only in the live tracker.

Masks keep the length of what they replace where they can (``张三`` → ``张*``), so entity
``start``/``end`` spans stored next to a masked text still point at the right characters.

Every pattern here runs in linear time on hostile input (a 100,000-character message must not stall anyone):
between two literals there is at most one quantified run of the same kind of character, never two adjacent
runs that could share characters (``\\s*(?:是)?\\s*`` backtracks quadratically), and everything else is bounded.
Patterns read an ASCII view of the text (full-width digits and letters, other Unicode digits, spaces and dashes
mapped one character for one), so ``１３８…`` is found like ``138…`` while spans and lengths stay as they are.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
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


def _ascii_table() -> dict[int, str]:
    """What other scripts write but a reader takes for ASCII, one character for one: full-width forms
    (３３０１０６, ＩＤ, ＋８６), every other decimal digit, Unicode spaces (zero-width ones too) and dashes."""
    table = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
    # every decimal digit Unicode knows lives below U+20000
    for digit in re.findall(r"\d", "".join(map(chr, range(0x80, 0x20000)))):
        table[ord(digit)] = str(unicodedata.digit(digit))
    spaces = "\u00a0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u200c"
    spaces += "\u200d\u202f\u205f\u2060\u3000\ufeff"
    table.update(dict.fromkeys(map(ord, spaces), " "))
    table.update(dict.fromkeys(map(ord, "\u00ad\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"), "-"))
    return table


_ASCII = _ascii_table()


def _ascii_view(text: str) -> str:
    """The text as the patterns read it: same length, same positions (see _ascii_table)."""
    return text if text.isascii() else text.translate(_ASCII)


def _own_chars(original: str, view: str, mask: str) -> str:
    """A mask computed on the ASCII view, with the writer's own characters wherever it keeps them (３３０***)."""
    if len(mask) != len(original):
        return mask
    return "".join(own if new == seen else new for own, seen, new in zip(original, view, mask, strict=True))


class _Masking:
    """A text being masked and its ASCII view: patterns read the view, every mask goes into both."""

    def __init__(self, text: str) -> None:
        self.text, self.view = text, _ascii_view(text)

    def replace(self, spans: Iterable[tuple[int, int, str]]) -> None:
        """Put each mask (computed on the view) over its span; spans come in order and do not overlap."""
        text: list[str] = []
        view: list[str] = []
        last = 0
        for start, end, mask in spans:
            own = _own_chars(self.text[start:end], self.view[start:end], mask)
            text += (self.text[last:start], own)
            view += (self.view[last:start], _ascii_view(own))
            last = end
        if text:
            self.text = "".join(text) + self.text[last:]
            self.view = "".join(view) + self.view[last:]

    def sub(self, pattern: re.Pattern[str], mask: Callable[[re.Match[str], str], str]) -> None:
        """Mask every match of `pattern` in the view; `mask` gets the match and the text as written."""
        self.replace((m.start(), m.end(), mask(m, self.text)) for m in pattern.finditer(self.view))


def _is_han(ch: str) -> bool:
    code = ord(ch)
    return 0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF


_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"  # a number glued to letters is a reference number (ZF2026…), not PII
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"
# … unless the letters are a label written without a space: ID330106…, tel138…, No6222…
_GLUED_LABELS = _words("id no nr num sfz sfzh idno idcard tel phone mobile mob cell card acct")


def _after_glued_label() -> str:
    """Lookbehinds for the labels above (any case), each a word of its own (PAID330… is not ID330…)."""
    by_length: dict[int, list[str]] = {}
    for label in _GLUED_LABELS:
        by_length.setdefault(len(label), []).append(label)
    return "|".join(rf"(?<=(?<![A-Za-z])(?i:{'|'.join(group)}))" for group in by_length.values())


_GLUED_OR_ALONE = rf"(?:{_NOT_ALNUM_BEFORE}|(?<=[A-Za-z])(?:{_after_glued_label()}))"


def _number_start(first: str) -> str:
    """Where a number may start: not glued to letters or digits, unless to a label. The cheap look at the first
    char comes before the lookbehinds, which would otherwise run at every position of a long text."""
    return rf"(?={first}){_GLUED_OR_ALONE}"


_SEP = r"[\s\-]"  # one space or dash between the blocks of a number (the view maps the other kinds to these)

# ----------------------------------------------------------------------------------------------------
# Field maskers (used by mask_text for what its patterns find, and by mask_value for known fields)


def mask_id_number(value: str) -> str:
    """Resident ID: first 3 + last 2 (330*************23), the same rule as the services sandbox."""
    return _keep(value, 3, 2)


_PHONE_PREFIX = re.compile(r"(?:\+|00)?86[\s-]?")


def mask_phone(value: str) -> str:
    """Mainland mobile: 138****0001; a +86/0086 prefix and separators are kept as they were."""
    text = value.strip()
    prefix_match = _PHONE_PREFIX.match(text)
    prefix = prefix_match.group(0) if prefix_match else ""
    number = text[len(prefix) :]
    if sum(ch.isdigit() for ch in number) == 11:
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


_VIN_LENGTH = 17


def mask_vin(value: str) -> str:
    """Vehicle identification number (VIN, 车架号): a full one keeps its first 3 characters, the manufacturer code
    (LFV**************); a piece of one is masked whole, because its last 6 characters are what proves ownership to
    the vehicle-transfer service (keeping the last 4, as for bank cards, would give most of that away)."""
    full = sum(ch.isalnum() for ch in value) == _VIN_LENGTH
    return _keep(value, 3 if full else 0, 0)


# GB 16735 / ISO 3779: the 9th character is a check character over the others (transliterated letters, weighted).
_VIN_VALUES = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9),
                       strict=True))
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def is_vin(value: str) -> bool:
    """17 VIN characters (no I, O, Q) with letters and digits and a correct check character."""
    vin = value.upper()
    if len(vin) != _VIN_LENGTH or not vin.isascii() or not vin.isalnum() or set(vin) & set("IOQ"):
        return False
    if vin.isdigit() or vin.isalpha():
        return False
    total = sum((int(ch) if ch.isdigit() else _VIN_VALUES[ch]) * w for ch, w in zip(vin, _VIN_WEIGHTS, strict=True))
    return vin[8] == "0123456789X"[total % 11]


def mask_document(value: str) -> str:
    """Passport or permit number: its letter + last 2 (E******78)."""
    return _keep(value, 1, 2)


def mask_email(value: str) -> str:
    """Email: first character of the mailbox and the domain stay (z*******@example.com)."""
    local, sep, domain = value.partition("@")
    if not sep:
        return _keep(value, 1, 0)
    return (local[:1] + _STAR * (len(local) - 1) if len(local) > 1 else _STAR) + "@" + domain


def mask_health(value: str) -> str:
    """Health readings and declarations (体温, 症状) are sensitive personal information: digits hidden, words too."""
    return re.sub(r"[0-9A-Za-z\u4e00-\u9fff]", _STAR, value)


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


# Ends of the region names an operator may read (浙江省 杭州市 西湖区 余杭县 北山街道 …): what follows is the place.
_REGION_ENDS = frozenset("省市区县旗镇乡州盟")


def _region_end(place: str, min_rest: int) -> int:
    """Where the region part of a run of Han chars ends: after its last region name that still leaves `min_rest`
    chars (萧山区市心路: the 市 of 市心 is the road's, not a city's); 0 when there is none."""
    cut = 0
    for i, ch in enumerate(place):
        is_end = ch in _REGION_ENDS or place[i - 1 : i + 1] == "街道"
        if is_end and len(place) - (i + 1) >= min_rest:
            cut = i + 1
    return cut


def mask_address(value: str) -> str:
    """Street address: the region stays, the rest is masked (杭州市西湖区文三路90号 → 杭州市西湖区******)."""
    head = len(value) - len(value.lstrip())
    run = head
    while run < len(value) and run - head < 40 and _is_han(value[run]):
        run += 1
    cut = head + _region_end(value[head:run], 0)
    return value[:cut] + _keep(value[cut:], 0, 0)


# ----------------------------------------------------------------------------------------------------
# Pseudonymous user ids

# Only for development: any real deployment sets PII_HASH_SECRET.
_HASHED_ID = re.compile(r"u_[0-9a-f]{16}")


def _hash_secret() -> bytes:
    return secret_from_env("PII_HASH_SECRET", "user ids are hashed").encode("utf-8")


def hash_sender_id(sender_id: Any) -> Any:
    """Keyed hash (HMAC-SHA256) of a user id: stable per user, so the console can group turns, but not
    reversible or guessable without the secret (a plain SHA-256 of a phone-number-like id is brute-forced
    in seconds). Conversation ids carry their channel (rest:…, wechat:…, tg:…), so none of them can look
    like a hash and skip hashing."""
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
    ("vin vin_tail vin_last6 vehicle_vin frame_number 车架号 车辆识别代号", mask_vin),
    ("credit_code social_credit_code unified_social_credit_code 统一社会信用代码", mask_credit_code),
    ("bank_account bank_card account_number card_number payout_account 银行卡号", mask_bank_account),
    ("email e_mail email_address", mask_email),
    ("address home_address residential_address contact_address 地址 住址 家庭住址", mask_address),
    ("passport passport_number passport_no permit_number 护照号 通行证号", mask_document),
    ("hc_temperature hc_symptoms temperature body_temperature symptoms 体温 症状", mask_health),
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
# Free-text patterns (they read the ASCII view: digits are 0-9, spaces and dashes are plain)

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
# Only labelled codes count: a bare 6-digit number may be a postal code, an amount or a date part.
# One run of separator chars, not \s*(?:是)?\s* (two runs sharing the spaces backtrack quadratically).
_LABELLED_CODE = re.compile(
    r"(?P<label>(?:短信)?(?:验证码|驗證碼|校验码|校驗碼|动态码|動態碼|动态密码|動態密碼)"
    r"|(?:SMS |verification |verify )code|OTP)"
    r"(?P<sep>[\s:：=是为為]*(?:is[\s:=]*)?)(?P<secret>\d{4,8})" + _NOT_ALNUM_AFTER,
    re.IGNORECASE,
)
# The connector is required (密码错误 is no password); a non-space literal between the two runs keeps it linear.
_LABELLED_PASSWORD = re.compile(
    r"(?P<label>密码|密碼|password|passwd)\s*(?:是|为|為|:|：|is|=)\s*(?P<secret>[^\s，。,;；]{1,64})",
    re.IGNORECASE,
)
# Passports (E12345678), Hong Kong/Macau/Taiwan permits (C12345678, H1234567801, 12345678), HK ID A123456(7):
# masked when labelled, as unlabelled they look like any other reference.
_LABELLED_DOCUMENT = re.compile(
    r"(?:护照|護照|passport|港澳通行证|港澳通行證|台湾通行证|台灣通行證|通行证|通行證|回乡证|回鄉證|台胞证|台胞證"
    r"|居留证|居留證|香港身份证|香港身份證|澳门身份证|澳門身份證|HKID)"
    r"[\s:：]{0,3}(?:号码|號碼|编号|編號|号|號|no\.?|number|#)?[\s:：=是为為]{0,4}"
    r"(?P<value>[A-Za-z]{0,2}\d{6,10}(?:\([0-9A-Za-z]\))?)" + _NOT_ALNUM_AFTER,
    re.IGNORECASE,
)
# VINs (车架号) after a label, whole or a piece (车架号后六位是123456, vin_tail=123456); unlabelled ones are found by
# their check character (_VIN below).
_LABELLED_VIN = re.compile(
    r"(?:(?<![A-Za-z])(?:vin_tail|vin)(?![A-Za-z])|车架号|車架號|车辆识别代号|車輛識別代號|车辆识别码|車輛識別碼|识别代号|識別代號)"
    r"(?:码|碼|号|號)?的?(?:后六位|后6位|末六位|末6位|後六位|後6位)?[\s:：=是为為]{0,4}"
    r"(?P<value>[0-9A-Za-z]{6,17})" + _NOT_ALNUM_AFTER,
    re.IGNORECASE,
)
# Body temperatures (health data): after a label (体温36.5) or before a unit (36.5℃, 36度5); a bare number is a
# temperature only as the answer to that question, which the known slot value covers.
_READING = r"(?:3[4-9]|4[0-3])(?:[.点][0-9])?"
_TEMPERATURE = re.compile(
    rf"(?:体温|體溫|temperature)[\s:：是为為]{{0,3}}{_READING}(?:[ ]?(?:℃|°C|度[0-9]?))?(?![0-9])"
    rf"|(?<![0-9.]){_READING}[ ]?(?:℃|°C|度[0-9]?)",
    re.IGNORECASE,
)
_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
# GB 11643: 6-digit area code, birth date, 3-digit sequence, check char; one space or dash may split it
# into 6/8/4 or 6/4/4/4 blocks.
_ID18 = re.compile(
    _number_start("[1-9]")
    + rf"[1-9]\d{{5}}{_SEP}?(?:18|19|20)\d{{2}}{_SEP}?{_DATE}{_SEP}?\d{{3}}[\dXx]"
    + _NOT_ALNUM_AFTER
)
_ID15 = re.compile(_number_start("[1-9]") + rf"[1-9]\d{{5}}\d{{2}}{_DATE}\d{{3}}" + _NOT_ALNUM_AFTER)
# GB 32100: registration authority (1-9, A, N, Y), category digit, area code, 9-char organisation code,
# check char. Letters I, O, S, V, Z never occur, so ZF2026… application numbers cannot match.
_CC = "0-9A-HJ-NPQRTUWXY"
_CREDIT_CODE = re.compile(_NOT_ALNUM_BEFORE + rf"[1-9ANY][1-9]\d{{6}}[{_CC}]{{10}}" + _NOT_ALNUM_AFTER)
_BANK_CARD = re.compile(
    _number_start(r"\d")
    + r"(?:\d{16,19}|\d{4}(?P<sep>[ -])\d{4}(?P=sep)\d{4}(?P=sep)\d{4}(?:(?P=sep)\d{1,3})?)"
    + _NOT_ALNUM_AFTER
)
_PHONE = re.compile(
    rf"(?:(?<!\+){_number_start('[+0]')}(?:\+|00)86[\s-]?|{_number_start('1')})"
    rf"1[3-9]\d{_SEP}?\d{{4}}{_SEP}?\d{{4}}" + _NOT_ALNUM_AFTER
)
_VIN = re.compile(_NOT_ALNUM_BEFORE + r"[0-9A-HJ-NPR-Za-hj-npr-z]{17}" + _NOT_ALNUM_AFTER)
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼滬魯蘇贛閩貴" + "使领領"
# A plate always has digits: 新Apple or 赣ADIDAS is English in a Chinese sentence, not a plate.
_PLATE_CHAR = "A-HJ-NP-Za-hj-np-z"
_PLATE = re.compile(
    rf"[{_PROVINCES}][{_PLATE_CHAR}][\s·•\-]?(?=[{_PLATE_CHAR}]{{0,4}}\d)[{_PLATE_CHAR}0-9]{{5,6}}[挂學学警]?"
    + _NOT_ALNUM_AFTER
)

# Ordered: e-mails before phones (13800000001@qq.com), labelled secrets before numbers, IDs before bank cards.
_PATTERNS: list[tuple[re.Pattern[str], Callable[[str], str]]] = [
    (_EMAIL, mask_email),
    (_ID18, mask_id_number),
    (_CREDIT_CODE, mask_credit_code),
    (_BANK_CARD, mask_bank_account),
    (_VIN, lambda value: mask_vin(value) if is_vin(value) else value),
    (_ID15, mask_id_number),
    (_PHONE, mask_phone),
    (_PLATE, mask_plate),
]


def _mask_after_label(match: re.Match[str], text: str) -> str:
    """The label and separator as written, then the fixed secret mask."""
    return text[match.start() : match.start("secret")] + SECRET_MASK


def _mask_temperature(match: re.Match[str], text: str) -> str:
    """The reading's digits only: the label and the unit stay, so the console still reads what was asked."""
    return re.sub(r"[0-9]", _STAR, text[match.start() : match.end()])


def _mask_document(match: re.Match[str], text: str) -> str:
    return text[match.start() : match.start("value")] + mask_document(match.group("value"))


def _mask_vin(match: re.Match[str], text: str) -> str:
    return text[match.start() : match.start("value")] + mask_vin(match.group("value"))


# ----------------------------------------------------------------------------------------------------
# Street addresses: 杭州市西湖区文三路90号 → 杭州市西湖区******
#
# What identifies a home is the road, community or building with its house/building/room numbers; the province,
# city and district stay so operators still see the region. A road or a public place without a number
# (文三路, 罗湖口岸, 西湖区政务服务中心) identifies nobody and stays readable. The pattern starts at the kind of
# place (路, 小区 …) and needs a number with its unit right after it; the place's name before it is found by
# walking back at most _PLACE_LOOKBACK Han chars in Python, so nothing here backtracks.

_ROADS = "大道|胡同|路|街|巷|弄"
_COMMUNITIES = "小区|社区|新村|花园|家园|公寓|大厦|村|苑"
_HOUSE_NO = r"(?:[A-Za-z]?\d{1,5}(?:-\d{1,5}){0,3}[A-Za-z]?|[A-Za-z])"
_HOUSE_UNIT = "(?:号楼|号院|单元|号|弄|栋|幢|座|室|楼|层|户|组)"
_ADDRESS = re.compile(
    rf"(?P<kind>{_ROADS}|{_COMMUNITIES})[ ]?[{_HAN}]{{0,4}}?{_HOUSE_NO}{_HOUSE_UNIT}"
    rf"(?:[{_HAN}]{{0,6}}?{_HOUSE_NO}{_HOUSE_UNIT})*"
    rf"(?:(?<=[幢栋座元楼层])\d{{1,5}})?"  # a room number after 3幢2单元…
)
_PLACE_LOOKBACK = 12
_PLACE_NAME_MAX = 6  # 文三, 莫干山, 西溪诚园 …: longer runs before the kind are the sentence, not the name
# Words that end the sentence part before a place's name (我家住在|文三路…).
_PLACE_MARKERS = _words("住在 家住 住址 地址 位于 在 是 到 去 从 的")


def _place_start(view: str, kind: re.Match[str], floor: int) -> int | None:
    """Where the name of the place of this kind (路, 小区 …) begins; None without a name (5路3号)."""
    kind_start = kind.start()
    first = kind_start
    while first > max(floor, kind_start - _PLACE_LOOKBACK) and _is_han(view[first - 1]):
        first -= 1
    window = view[first:kind_start]
    if not window:
        return None
    # A community's name may be one char (翠苑); a road's rarely is, but may start like a region (市心路, 县前街).
    cut = _region_end(window, 1 if kind.group("kind") in _COMMUNITIES.split("|") else 2)
    for marker in _PLACE_MARKERS:
        at = window.rfind(marker, cut)
        if at >= 0 and at + len(marker) < len(window):
            cut = max(cut, at + len(marker))
    return first + max(cut, len(window) - _PLACE_NAME_MAX)


def _address_spans(view: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    floor = 0
    for match in _ADDRESS.finditer(view):
        start = _place_start(view, match, floor)
        if start is not None:
            spans.append((start, match.end(), _keep(view[start : match.end()], 0, 0)))
            floor = match.end()
    return spans


# ----------------------------------------------------------------------------------------------------
# Announced names: 我叫张三 / 姓名：李四 / 我是王五 …

# A label with a colon (or 我叫/名字是) is trusted for any 2–4 Han chars; "我是X"/"本人X" and a label without
# colon only when X starts with a common surname, so 我是学生 / 我是想问 / 我是在杭州 stay as they are.
# Between label and colon one run of [\s是为為], not \s*(?:是)?\s* (quadratic on a long run of spaces).
_NAME_TRIGGER = re.compile(
    r"(?P<trusted>(?:我叫|我名叫|我的名字(?:是|叫)|名字(?:是|叫)|(?:姓名|联系人|聯繫人|联络人|申请人|申請人|持卡人|收款人|"
    r"户主|戶主|法定代表人|法人代表|原告|被告|第三人|当事人|當事人|上诉人|上訴人|代理人|调解员|調解員)"
    r"[\s是为為]*[:：=]|姓名(?:是|为|為)|my name is|name\s*[:：=])\s*)"
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
# JSON texts: Rasa payloads /inform{"id_number":"330106199503140023"} and texts that are all JSON

# The intent must be a real intent name: /身份证330106…{} is a sentence with braces, not a payload.
_PAYLOAD_HEAD = re.compile(r"\s*/[A-Za-z_][A-Za-z0-9_-]*(?:@[0-9.]+)?(?=\{)")


def _split_json(text: str) -> tuple[str, str, str] | None:
    """(head, JSON, tail) of a payload "/intent{…}" or of a text that is all JSON; None for any other text."""
    head = _PAYLOAD_HEAD.match(text)
    start = head.end() if head else len(text) - len(text.lstrip())
    body = text[start:].rstrip()
    is_object = body[:1] == "{" and body[-1:] == "}"
    if not (is_object or head is None and body[:1] == "[" and body[-1:] == "]"):
        return None
    return text[:start], body, text[start + len(body) :]


def _mask_json_text(text: str, known: Mapping[str, str]) -> str | None:
    """Mask a JSON text's values by their keys (and the payload's intent as text); None when it is no JSON.

    Too deeply nested to walk: None, so the text is masked as plain text instead."""
    parts = _split_json(text)
    if parts is None:
        return None
    head, body, tail = parts
    try:
        data = json.loads(body)
        masked = _mask_field_value(None, data, known)
    except (ValueError, RecursionError):
        return None
    head = mask_text(head, known)  # /tel13800000001{…} is an intent name only in form
    if masked == data:  # nothing personal: keep the JSON byte for byte
        return head + body + tail
    compact = ", " not in body and ": " not in body
    return head + json.dumps(masked, ensure_ascii=False, separators=(",", ":") if compact else None) + tail


# ----------------------------------------------------------------------------------------------------
# Values already known to be personal (entities, slots, earlier turns), wherever they are echoed

_KNOWN_MAX_LENGTH = 64  # longer values are found by the patterns; bounded lengths keep the scan linear


def _known_masks(known: Mapping[str, str]) -> dict[str, str]:
    """ASCII view of each known value → its mask (values that mask to themselves are left out)."""
    masks: dict[str, str] = {}
    for raw, field in known.items():
        value = _ascii_view(str(raw))
        if 0 < len(value) <= _KNOWN_MAX_LENGTH and value not in masks:
            masked = mask_value(field, value)
            if isinstance(masked, str) and masked != value:
                masks[value] = masked
    return masks


def _ascii_alnum_at(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isascii() and text[index].isalnum()


def _known_spans(view: str, known: Mapping[str, str]) -> list[tuple[int, int, str]]:
    """Leftmost-longest occurrences of known values in one pass over the text (no pass per value: a message
    announcing thousands of names must not cost thousands of passes). ASCII values must stand alone:
    123456 must not hit the middle of 91234567."""
    masks = _known_masks(known)
    if not masks:
        return []
    lengths: dict[str, set[int]] = {}
    for value in masks:
        lengths.setdefault(value[0], set()).add(len(value))
    longest_first = {first: sorted(found, reverse=True) for first, found in lengths.items()}
    starts = re.compile("[" + "".join(map(re.escape, longest_first)) + "]")
    spans: list[tuple[int, int, str]] = []
    position = 0
    while (hit := starts.search(view, position)) is not None:
        start, position = hit.start(), hit.start() + 1
        for length in longest_first[view[start]]:
            value = view[start : start + length]
            alone = not value.isascii() or not (
                _ascii_alnum_at(view, start - 1) or _ascii_alnum_at(view, start + length)
            )
            if value in masks and alone:
                spans.append((start, start + length, masks[value]))
                position = start + length
                break
    return spans


# ----------------------------------------------------------------------------------------------------
# Public API: text


def mask_text(text: str, known: Mapping[str, str] | None = None) -> str:
    """Mask personal data in free text (Chinese, Traditional or mixed with English).

    `known` maps raw values already known to be personal to their field name (e.g. {"张三": "person_name"}),
    so a bare "张三" or a bot reply "张三您好" is masked too.
    """
    if not isinstance(text, str) or not text:
        return text
    known = known or {}
    as_json = _mask_json_text(text, known)
    if as_json is not None:
        return as_json
    masking = _Masking(text)
    masking.replace(_known_spans(masking.view, known))
    masking.sub(_LABELLED_CODE, _mask_after_label)
    masking.sub(_LABELLED_PASSWORD, _mask_after_label)
    masking.sub(_LABELLED_DOCUMENT, _mask_document)
    masking.sub(_LABELLED_VIN, _mask_vin)
    masking.sub(_TEMPERATURE, _mask_temperature)
    for pattern, masker in _PATTERNS:
        masking.sub(pattern, lambda m, _text, masker=masker: masker(m.group(0)))
    masking.replace(_address_spans(masking.view))
    names = find_announced_names(masking.view)
    masking.replace((start, end, mask_person_name(masking.view[start:end])) for start, end in names)
    return masking.text


def mask_labelled_secrets(text: str) -> str:
    """Only the secrets a text names ("验证码是482913", "密码：…"), everything else as written: for the admin's
    unmask view, which shows personal data raw but never a credential."""
    if not isinstance(text, str) or not text:
        return text
    masking = _Masking(text)
    masking.sub(_LABELLED_CODE, _mask_after_label)
    masking.sub(_LABELLED_PASSWORD, _mask_after_label)
    return masking.text


def is_secret_field(name: Any) -> bool:
    """A field whose value is a credential (identity token, SMS code, password …): masked whole, whatever it holds."""
    return isinstance(name, str) and _masker_for(name) is mask_secret


# ----------------------------------------------------------------------------------------------------
# Public API: values


def _mask_number(value: int | float, known: Mapping[str, str]) -> Any:
    """A phone or card number stored as a number; floats are written out in full (no 3.3e+17 that keeps
    16 of an ID's 18 digits)."""
    if abs(value) < 10**10:
        return value
    written = str(int(value)) if isinstance(value, int) or value.is_integer() else str(value)
    masked = mask_text(written, known)
    return value if masked == written else masked


def _mask_field_value(field: str | None, value: Any, known: Mapping[str, str]) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dict):
        # "name" next to other personal keys ({"name": "陈明", "phone": …}) is a person's name; alone it
        # may be a job fair's or a form's name, which the console needs to read.
        personal_sibling = any(k in PERSONAL_FIELDS for k in map(str, value))
        return {
            _mask_key(k, known): _mask_field_value(
                "person_name" if k == "name" and personal_sibling else str(k), v, known
            )
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
    if isinstance(value, (int, float)) and value == value and abs(value) != float("inf"):
        return _mask_number(value, known)
    return value


def _mask_key(key: Any, known: Mapping[str, str]) -> Any:
    """Keys are written by users too ({"身份证330106…": 1}); field names (ASCII words without digits) are kept
    without a look, as nothing personal fits in them."""
    if not isinstance(key, str) or key.isascii() and key.isidentifier() and not any(c.isdigit() for c in key):
        return key
    return mask_text(key, known)


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
        parts = _split_json(text)
        if parts:
            with contextlib.suppress(ValueError, RecursionError):
                _collect(None, json.loads(parts[1]), out)
        for start, end in find_announced_names(_ascii_view(text)):
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
    try:
        event = copy.deepcopy(dict(event))
        known = {**(known_values or {}), **personal_values(event)}
        masked = _mask_mapping(event, _EVENT_KEEP, known)
        if event.get("event") == "slot" and "value" in event:  # masked as its slot (person_name → 陈*)
            masked["value"] = _mask_field_value(event.get("name"), event["value"], known)
    except RecursionError:  # nested too deeply to walk: nothing of it can be shown
        return withheld_event(event)
    return masked


def withheld_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """What may be stored of an event that could not be masked: its kind, time and hashed sender only."""
    return {
        "event": event.get("event"),
        "timestamp": event.get("timestamp"),
        "sender_id": hash_sender_id(event.get("sender_id")),
        "withheld": "could not be masked",
    }


# ----------------------------------------------------------------------------------------------------
# Logging

_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# Han, CJK punctuation, full-width forms, Unicode spaces and dashes: what names and numbers are written in.
# Line breaks, bidi marks and other controls stay escaped, so unescaping cannot split or reorder a log line.
_UNESCAPED = ((0x00A0, 0x00AD), (0x2000, 0x200D), (0x2010, 0x2015), (0x2212, 0x2212), (0x3000, 0x303F))
_UNESCAPED += ((0x3400, 0x9FFF), (0xF900, 0xFAFF), (0xFE58, 0xFE63), (0xFF01, 0xFF5E))
# UTF-8 bytes written as \xe5\xbc\xa0 (bytes reprs) or %E5%BC%A0 (URLs)
_ESCAPED_BYTES = re.compile(r"(?:\\x[0-9a-fA-F]{2}|%[0-9a-fA-F]{2})+")


def _unescape_char(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    return chr(code) if any(low <= code <= high for low, high in _UNESCAPED) else match.group(0)


def _decode_bytes(match: re.Match[str]) -> str:
    raw = bytes.fromhex(match.group(0).replace("\\x", "").replace("%", ""))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return match.group(0)
    return text if text.isprintable() else match.group(0)


def mask_log_text(text: str) -> str:
    """mask_text for log lines; escaped text (JSON \\u5f20…, bytes \\xe5…, URL %E5…) is decoded first so
    names and numbers written that way are found too."""
    if "\\u" in text:
        text = _JSON_ESCAPE.sub(_unescape_char, text)
    if "\\x" in text or "%" in text:
        text = _ESCAPED_BYTES.sub(_decode_bytes, text)
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
