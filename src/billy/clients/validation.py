"""Field rules for a client (seed 000): name, email and phone required, at most 128 characters,
email valid, phone normalised to E.164 (default region RU)."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator

from billy.core.errors import ValidationFailed
from billy.core.validation import is_printable_text

MAX_LENGTH = 128
DEFAULT_PHONE_REGION = "RU"
_email = EmailValidator()


@dataclass(frozen=True)
class ClientFields:
    name: str
    email: str
    phone: str


def normalize_phone(raw: str) -> str:
    """E.164 form of a phone number; raises ValueError when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException as e:
        raise ValueError(str(e)) from e
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_client_fields(*, service_client_id: str, name: str, email: str, phone: str) -> ClientFields:
    """Normalised fields, or ValidationFailed listing every invalid field."""
    errors: dict[str, list[str]] = {}

    def required(field: str, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            errors.setdefault(field, []).append("This field is required.")
            return None
        if not is_printable_text(value):
            errors.setdefault(field, []).append("Control characters are not allowed.")
            return None
        if len(value) > MAX_LENGTH:
            errors.setdefault(field, []).append(f"At most {MAX_LENGTH} characters.")
            return None
        return value

    required("service_client_id", service_client_id)
    if service_client_id != (service_client_id or "").strip():
        errors.setdefault("service_client_id", []).append("No leading or trailing spaces.")
    name_value = required("name", name)
    email_value = required("email", email)
    if email_value is not None:
        try:
            _email(email_value)
        except DjangoValidationError:
            errors.setdefault("email", []).append("Enter a valid email address.")
    phone_value = required("phone", phone)
    if phone_value is not None:
        try:
            phone_value = normalize_phone(phone_value)
        except ValueError:
            errors.setdefault("phone", []).append("Enter a valid phone number, e.g. +7 495 123-45-67.")
    if errors:
        raise ValidationFailed(errors)
    return ClientFields(name=name_value, email=email_value, phone=phone_value)
