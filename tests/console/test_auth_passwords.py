"""Password hashing at the production cost."""

from __future__ import annotations

import pytest

from console.users import hash_password, password_problem, verify_password
from tests.console.conftest import PASSWORD


@pytest.fixture
def fast_password_hashing() -> None:
    """Overrides the conftest fixture: these tests check the production cost."""


def test_passwords_are_salted_scrypt_hashes() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second  # a random salt per hash
    assert first.startswith("scrypt$16384$8$5$") and PASSWORD not in first
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)
    assert not verify_password(PASSWORD + "x", first)
    assert not verify_password("", first)
    assert not verify_password(PASSWORD, "garbage") and not verify_password(PASSWORD, "md5$abc")


def test_weak_passwords_are_refused() -> None:
    assert "至少需要 10 个字符" in password_problem("short1234")
    assert password_problem("aaaaaaaaaaaa") is not None
    assert password_problem(PASSWORD) is None
