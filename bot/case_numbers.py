"""Court case numbers (案号) in one canonical form, for every part that reads them: the NLU's entity resolver, the
forms' validators and the court service.

    (2020)浙0106民初1234号  ←  （2020）浙0106民初1234 / 〔2020〕浙0106民初1234号 / 【2020】… / [2020]… /
                               ( 2020 )浙0106民初 1234 号 / （２０２０）… / 2020浙0106民初1234号 / …號 (Traditional)
"""

from __future__ import annotations

import re
import unicodedata

MAX_INPUT = 60  # longer: not a case number

# Round brackets after NFKC (full-width ones become these), the official hexagonal 〔〕, square and lenticular ones;
# the Traditional characters of the common case types and provinces.
_CHARACTERS = str.maketrans({
    "〔": "(", "〕": ")", "[": "(", "]": ")", "【": "(", "】": ")", "﹝": "(", "﹞": ")",
    "號": "号", "執": "执", "終": "终", "滬": "沪", "粵": "粤", "審": "审", "復": "复",
})
# 最高法, a province's abbreviation, 兵 (兵团) or 军 (military courts); then the court's digits (none for a high court).
_ORGAN = "最高法|[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼兵军]"
_CASE_NUMBER = re.compile(
    rf"\(((?:19|20)\d{{2}})\)({_ORGAN})(\d{{0,4}})((?:(?!号)[\u4e00-\u9fff]){{1,4}})(\d{{1,6}})号"
)
_BARE_YEAR = re.compile(r"((?:19|20)\d{2})(?=\D)")


def normalise_case_number(text: str | None) -> str | None:
    """The canonical case number, or None when the text is not one."""
    if not isinstance(text, str) or len(text) > MAX_INPUT:
        return None
    value = "".join(unicodedata.normalize("NFKC", text).split()).translate(_CHARACTERS)
    if not value.startswith("(") and _BARE_YEAR.match(value):
        value = _BARE_YEAR.sub(r"(\1)", value, count=1)
    if not value.endswith("号"):
        value += "号"
    match = _CASE_NUMBER.fullmatch(value)
    if match is None:
        return None
    year, organ, court, kind, number = match.groups()
    if int(number) == 0:
        return None
    return f"({year}){organ}{court}{kind}{int(number)}号"
