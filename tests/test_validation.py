"""Cell conversion and field checks, with the messages a clerk sees."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from app.registers.model import Field
from app.registers.validation import CellError, check, convert, id_number_valid, money

MONEY = Field("amount", "金额", "money")
AREA = Field("area", "建筑面积", "area", min=0.01)
PHONE = Field("phone", "手机号", "phone")
ID = Field("id_number", "身份证号", "id_number")
DAY = Field("on", "日期", "date", required=True)
CODE = Field("code", "房号", "text", pattern=r"^[0-9]+(-[0-9]+)*$", pattern_hint="房号形如 3-2-1201")


def test_id_number_check_digit():
    # 11010519491231002X: sum of digits x weights = 167, 167 mod 11 = 2 -> 'X'
    assert id_number_valid("11010519491231002X")
    assert not id_number_valid("110105194912310021")  # wrong check digit
    assert not id_number_valid("11010519491331002X")  # month 13
    assert not id_number_valid("1101051949123100")  # too short
    # 440524188001010014: 1880 is before 1900, not a living owner's number
    assert not id_number_valid("440524188001010014")


def test_id_number_lower_case_x_is_normalised_then_accepted():
    value = convert(ID, " 11010519491231002x ")
    assert value == "11010519491231002X"
    assert check(ID, value) is None


def test_phone_must_be_eleven_digits_starting_with_one():
    assert check(PHONE, convert(PHONE, "138-1234-5678")) is None
    assert check(PHONE, "23812345678") == "手机号应为以 1 开头的 11 位数字"
    assert check(PHONE, "1381234567") is not None


def test_money_keeps_two_decimals_exactly():
    assert convert(MONEY, "¥1,234.5") == Decimal("1234.50")
    assert convert(MONEY, 0.1 + 0.2 - 0.00000000000000004) == Decimal("0.30")
    with pytest.raises(CellError, match="最多 2 位小数"):
        convert(MONEY, "10.005")
    with pytest.raises(CellError, match="应为数字"):
        convert(MONEY, "十块")


def test_rounding_is_half_up_not_bankers():
    assert money(Decimal("2.675")) == Decimal("2.68")
    assert money(Decimal("2.665")) == Decimal("2.67")  # half-even would give 2.66
    assert money(Decimal("-2.665")) == Decimal("-2.67")


def test_dates_from_text_excel_and_grid():
    assert convert(DAY, "2024/3/5") == date(2024, 3, 5)
    assert convert(DAY, "2024年3月5日") == date(2024, 3, 5)
    assert convert(DAY, datetime(2024, 3, 5, 10, 0)) == date(2024, 3, 5)
    with pytest.raises(CellError):
        convert(DAY, "2024-02-30")
    assert check(DAY, convert(DAY, "")) == "必填"


def test_codes_stay_text():
    assert convert(CODE, "0101") == "0101"
    assert check(CODE, "3-2-1201") is None
    assert check(CODE, "3/2/1201") == "房号形如 3-2-1201"


def test_min_applies_to_decimals():
    assert check(AREA, Decimal("0.00")) == "不能小于 0.01"
    assert check(AREA, Decimal("0.01")) is None
