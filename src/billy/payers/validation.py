"""A payer's fields as a Russian accountant expects them: the requisites by their published rules
(`requisites`), the rest as text of a sane length, the email valid, the phone in E.164. Every problem
at once, by field; nothing is stored and Balance is not called when there is one."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator

from billy.clients.validation import normalize_phone
from billy.core.errors import ValidationFailed
from billy.core.validation import check_id, check_text

from .requisites import validate_payer_requisites

_email = EmailValidator()


@dataclass(frozen=True)
class PayerFields:
    type: str
    name: str
    inn: str
    email: str
    phone: str
    legal_address: str
    long_name: str = ""
    kpp: str = ""
    postal_address: str = ""
    bik: str = ""
    bank_account: str = ""


_LENGTHS = {"name": 256, "long_name": 512, "email": 128, "legal_address": 512, "postal_address": 512}
_OPTIONAL = {"long_name", "postal_address"}


def validate_payer_fields(*, payer_id: str, fields: PayerFields) -> PayerFields:
    """The fields with the phone in E.164 and blanks trimmed, or ValidationFailed naming each field."""
    errors: dict[str, list[str]] = {}
    check_id(errors, "payer_id", payer_id)
    for name, length in _LENGTHS.items():
        check_text(errors, name, getattr(fields, name), max_length=length, required=name not in _OPTIONAL)
    if "email" not in errors:
        try:
            _email(fields.email.strip())
        except DjangoValidationError:
            errors.setdefault("email", []).append("Enter a valid email address.")
    phone = fields.phone
    check_text(errors, "phone", phone, max_length=32)
    if "phone" not in errors:
        try:
            phone = normalize_phone(phone)
        except ValueError:
            errors.setdefault("phone", []).append("Enter a valid phone number, e.g. +7 495 123-45-67.")
    for field, problems in validate_payer_requisites(
        payer_type=fields.type, inn=fields.inn, kpp=fields.kpp, bik=fields.bik, bank_account=fields.bank_account
    ).items():
        errors.setdefault(field, []).extend(problems)
    if errors:
        raise ValidationFailed(errors)
    return PayerFields(
        type=fields.type,
        name=fields.name.strip(),
        inn=fields.inn,
        email=fields.email.strip(),
        phone=phone,
        legal_address=fields.legal_address.strip(),
        long_name=(fields.long_name or "").strip(),
        kpp=fields.kpp or "",
        postal_address=(fields.postal_address or "").strip(),
        bik=fields.bik or "",
        bank_account=fields.bank_account or "",
    )
