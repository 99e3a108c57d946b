import pytest
from hypothesis import given
from hypothesis import strategies as st

from billy.clients.validation import validate_client_fields
from billy.core.errors import ValidationFailed

VALID = {"service_client_id": "c-1", "name": "ООО Ромашка", "email": "info@romashka.ru", "phone": "+74951234567"}


@pytest.mark.parametrize(
    "raw",
    ["8 (495) 123-45-67", "+7 495 123 45 67", "84951234567", "+7(495)1234567", "495 123-45-67"],
)
def test_russian_phone_forms_normalise_to_e164(raw):
    assert validate_client_fields(**{**VALID, "phone": raw}).phone == "+74951234567"


def test_foreign_phone_keeps_its_country():
    assert validate_client_fields(**{**VALID, "phone": "+1 650-253-0000"}).phone == "+16502530000"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("name", "   ", "This field is required."),
        ("name", "x" * 129, "At most 128 characters."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("email", "a@" + "b" * 124 + ".ru", "At most 128 characters."),
        ("phone", "12", "Enter a valid phone number, e.g. +7 495 123-45-67."),
        ("phone", "", "This field is required."),
        ("service_client_id", "x" * 129, "At most 128 characters."),
        ("service_client_id", " padded", "No leading or trailing spaces."),
        ("name", "a\x15b", "Control characters are not allowed."),
        ("name", "a\udb01b", "Control characters are not allowed."),
        ("email", "a\x00@b.ru", "Control characters are not allowed."),
        ("service_client_id", "c\x00", "Control characters are not allowed."),
    ],
)
def test_invalid_field_is_reported_by_name(field, value, message):
    with pytest.raises(ValidationFailed) as error:
        validate_client_fields(**{**VALID, field: value})
    assert error.value.fields == {field: [message]}


def test_every_invalid_field_is_reported_at_once():
    with pytest.raises(ValidationFailed) as error:
        validate_client_fields(service_client_id="c", name="", email="x", phone="1")
    assert set(error.value.fields) == {"name", "email", "phone"}


def test_exactly_128_characters_is_accepted():
    assert validate_client_fields(**{**VALID, "name": "я" * 128}).name == "я" * 128


@given(
    separators=st.lists(st.sampled_from(["", " ", "-", "  "]), min_size=9, max_size=9),
    prefix=st.sampled_from(["8", "+7", "7 ", "+7 "]),
)
def test_any_punctuation_of_one_number_normalises_to_the_same_e164(separators, prefix):
    digits = "4951234567"
    raw = prefix + "".join(d + s for d, s in zip(digits, [*separators, ""], strict=True))
    assert validate_client_fields(**{**VALID, "phone": raw}).phone == "+74951234567"
