"""Money at the edges: a decimal string, matched to its true end."""

import re

import pytest

from billy.core.money import POSITIVE_AMOUNT_PATTERN, parse_amount


@pytest.mark.parametrize("text", ["1.00\n", "1\n", " 1.00", "1.00 ", "01.00", "1.001", "1e2", "-1.00", ""])
def test_amounts_refused(text):
    with pytest.raises(ValueError):
        parse_amount(text)


@pytest.mark.parametrize(("text", "minor"), [("0", 0), ("0.01", 1), ("1", 100), ("1.5", 150), ("12.34", 1234)])
def test_amounts_read(text, minor):
    assert parse_amount(text) == minor


def test_the_documented_positive_pattern_agrees_with_the_parser():
    pattern = re.compile(POSITIVE_AMOUNT_PATTERN)
    for text in ["0.01", "0.1", "0.10", "1", "12.30", "999999999999.99"]:
        assert pattern.fullmatch(text) and parse_amount(text) > 0
    for text in ["0", "0.0", "0.00", "00.01", "1.001", "1000000000000"]:
        assert not pattern.fullmatch(text)
