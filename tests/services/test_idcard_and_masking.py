"""GB 11643 check digits and the masks used in responses and logs."""

from __future__ import annotations

import pytest

from services import idcard
from services.masking import mask_account, mask_id_number, mask_name, mask_phone, mask_text


@pytest.mark.parametrize(
    "number", ["330106199503140023", "45010219920605004X", "45010219920605004x", "370202199811110050"]
)
def test_seed_persona_numbers_are_valid(number):
    assert idcard.is_valid(number)


@pytest.mark.parametrize(
    "number", ["330106199503140024", "33010619950314002", "330106199502300023", "ABCDEFGHIJKLMNOPQR", ""]
)
def test_wrong_check_digit_length_or_birth_date_is_invalid(number):
    assert not idcard.is_valid(number)


def test_masks():
    assert mask_id_number("330106199503140023") == "330*************23"
    assert mask_phone("13800000001") == "138****0001"
    assert mask_name("陈晓") == "陈*"
    assert mask_account("6222021202001234567") == "6222 **** **** 4567"
    text = mask_text("phone=13800000001 id=45010219920605004X")
    assert text == "phone=138****0001 id=450*************4X"


def test_check_digits_of_generated_numbers():
    """Other tests make up valid numbers with check_digit: the result must pass is_valid, with X as the 18th."""
    assert idcard.check_digit("11010519491231002") == "X"
    assert idcard.is_valid("11010519491231002" + idcard.check_digit("11010519491231002"))


@pytest.mark.parametrize("number", ["330106950314002", " 330106199503140023 ", "330106209903140029"])
def test_the_sandbox_keeps_its_own_rules(number):
    """15-digit numbers are refused, spaces around are ignored, and a future birth date is the assistant's business
    (the sandbox only checks that the date exists)."""
    expected = number.strip() != "330106950314002"
    assert idcard.is_valid(number) is expected
