"""Validators of the vehicle registration transfer (actions/vehicle_transfer.py)."""

from __future__ import annotations

import re

from actions.validators.common import (
    FULLWIDTH,
    Invalid,
    Result,
    Valid,
)

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# A plate as typed: province, letter, maybe a separator (桂A·12345, 桂A 12345), then 5 characters (6 for new-energy
# plates). Plates never use I or O; such a plate is read, then explained.
PLATE_LIKE = re.compile(rf"[{PLATE_PROVINCES}][A-Z][\s·•.\-]?[A-Z0-9]{{5,6}}(?![0-9A-Z])")
PLATE = re.compile(rf"[{PLATE_PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{{5,6}}")
PLATE_SEPARATORS = re.compile(r"[\s·•.\-]")
# Words around a VIN tail ("车架号后六位是123456"): removed before looking for it, so the 6 of 后6位 is not read.
VIN_LABEL = re.compile(
    r"车架号|車架號|车辆识别代号|車輛識別代號|车辆识别码|识别代号|VIN|最?后\s*[6六]\s*位", re.IGNORECASE
)
VIN_FULL = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{17}(?![0-9A-Z])")
VIN_TAIL = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{6}(?![0-9A-Z])")
VIN_CHARACTERS = set("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")  # GB 16735: never I, O or Q
CITY_PREFIX = re.compile(
    r"^(?:我要|我想|想|要|请|帮我)?(?:把车)?(?:转到|迁到|转入|迁入|转去|迁去|转至|迁至|转|迁|去|到|是|在)?"
)
CITY_SUFFIX = re.compile(r"(?:去|吧|呀|啊|了|的)+$")


def validate_plate_number(text: str) -> Result:
    """A plate in an answer ("桂a·12345", "车牌是桂A 12345"), in the registry's form: 桂A12345."""
    found = PLATE_LIKE.search(text.translate(FULLWIDTH).upper())
    if not found:
        return Invalid("utter_invalid_plate_number")
    plate = PLATE_SEPARATORS.sub("", found.group())
    if not PLATE.fullmatch(plate):
        return Invalid("utter_invalid_plate_number_letters")
    return Valid(plate)


def validate_vin_tail(text: str) -> Result:
    """The last 6 characters of the VIN (车架号), alone, in a sentence, or cut from the whole VIN."""
    upper = text.translate(FULLWIDTH).upper()
    upper = VIN_LABEL.sub(" ", PLATE_LIKE.sub(" ", upper))  # a plate in the same message is not the VIN
    whole, tail = VIN_FULL.search(upper), VIN_TAIL.search(upper)
    found = whole.group()[-6:] if whole else tail.group() if tail else None
    if found is None:
        runs = re.findall(r"[0-9A-Z]+", upper)
        if runs:
            return Invalid("utter_invalid_vin_tail_length", {"length": len(max(runs, key=len))})
        return Invalid("utter_invalid_vin_tail")
    if set(found) - VIN_CHARACTERS:
        return Invalid("utter_invalid_vin_tail_letters")
    return Valid(found)


def validate_city_name(text: str) -> Result:
    """A city's name as typed ("青岛", "转到青岛去", "山东省青岛市"); the form checks it against the cities served."""
    value = re.sub(r"[\s。，,.!！?？~～]", "", text)
    value = CITY_SUFFIX.sub("", CITY_PREFIX.sub("", value))
    if not re.fullmatch(r"[\u4e00-\u9fa5]{2,15}", value):
        return Invalid("utter_invalid_vt_city")
    return Valid(value)
