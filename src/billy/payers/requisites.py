"""Russian requisites of a payer, checked by their published rules (pure functions, no I/O).

- INN (ИНН): 10 digits for a legal entity, 12 for an individual (an individual entrepreneur too), with
  the FNS check digits: for 10 digits, the weights 2 4 10 3 5 9 4 6 8 over the first nine, the sum
  mod 11 mod 10 is the tenth; for 12 digits, the weights 7 2 4 10 3 5 9 4 6 8 over the first ten
  give the eleventh and 3 7 2 4 10 3 5 9 4 6 8 over the first eleven give the twelfth, the same way.
- KPP (КПП): 9 characters, 4 digits (the tax office), 2 digits or capital Latin letters (the reason
  for registration), 3 digits; a legal entity has one, an individual has none.
- BIK (БИК): the bank's 9 digits.
- Settlement account (расчётный счёт): 20 digits whose ninth is a control key tied to the bank's BIK
  (Bank of Russia, Порядок расчёта контрольного ключа в номере лицевого счёта, 08.09.1997 N 515): a
  conditional number is put before the 20 digits, and the 23 digits weighted 7 1 3 7 1 3 ... must sum
  to a multiple of 10. The conditional number is the credit institution's (the BIK's last three
  digits), or for an account held in a cash-settlement centre of the Bank of Russia, "0" and the
  centre's (the BIK's fifth and sixth digits).

`validate_payer_requisites` returns every problem at once, field by field, in the form
ValidationFailed carries (`{"inn": ["..."]}`); an empty dict means the requisites are valid.
Nothing is normalised: a value with spaces or dashes is refused, saying what it should look like.
"""

from __future__ import annotations

import enum
import re

INN_WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN_WEIGHTS_12_FIRST = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN_WEIGHTS_12_SECOND = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
ACCOUNT_WEIGHTS = (7, 1, 3)

_DIGITS = re.compile(r"[0-9]+")
_KPP = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")
_BIK = re.compile(r"[0-9]{9}")
_ACCOUNT = re.compile(r"[0-9]{20}")

# Accounts held in a Bank of Russia cash-settlement centre (РКЦ): every account at a division of the
# Bank of Russia (its BIK ends in 000, 001 or 002; a credit institution's ends in 050 to 999), and a
# credit institution's correspondent account (30101...), which it holds at its centre.
_SETTLEMENT_CENTRE_NUMBERS = ("000", "001", "002")
_CORRESPONDENT_ACCOUNT = "30101"


class PayerType(enum.StrEnum):
    LEGAL = "LEGAL"  # a legal entity (юридическое лицо)
    INDIVIDUAL = "INDIVIDUAL"  # an individual (физическое лицо), an individual entrepreneur too


INN_LENGTH = {PayerType.LEGAL: 10, PayerType.INDIVIDUAL: 12}


def _check_digit(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


def inn_check_digits(leading: str) -> str:
    """The check digits an INN starting with `leading` ends with: one for 9 leading digits (a legal
    entity's INN), two for 10 (an individual's)."""
    if len(leading) == 9:
        return _check_digit(leading, INN_WEIGHTS_10)
    if len(leading) == 10:
        eleventh = _check_digit(leading, INN_WEIGHTS_12_FIRST)
        return eleventh + _check_digit(leading + eleventh, INN_WEIGHTS_12_SECOND)
    raise ValueError("An INN has 9 or 10 digits before its check digits.")


def is_valid_inn(inn: str) -> bool:
    """Whether `inn` is 10 or 12 digits whose check digits match."""
    if not _DIGITS.fullmatch(inn) or len(inn) not in (10, 12):
        return False
    leading = 9 if len(inn) == 10 else 10
    return inn[leading:] == inn_check_digits(inn[:leading])


def conditional_number(*, bik: str, account: str) -> str:
    """The three digits put before `account` to check its control key: the credit institution's number
    (the BIK's last three digits), or for an account held in a cash-settlement centre "0" and the
    centre's number (the BIK's fifth and sixth digits)."""
    if bik[6:9] in _SETTLEMENT_CENTRE_NUMBERS or account.startswith(_CORRESPONDENT_ACCOUNT):
        return "0" + bik[4:6]
    return bik[6:9]


def account_key_matches(*, bik: str, account: str) -> bool:
    """Whether the control key of `account` (20 digits) matches the bank with `bik` (9 digits)."""
    digits = conditional_number(bik=bik, account=account) + account
    return sum(int(d) * ACCOUNT_WEIGHTS[i % 3] for i, d in enumerate(digits)) % 10 == 0


def validate_payer_requisites(
    *, payer_type: object, inn: object, kpp: object = None, bik: object = None, bank_account: object = None
) -> dict[str, list[str]]:
    """Problems with a payer's requisites by field (`type`, `inn`, `kpp`, `bik`, `bank_account`); empty
    when they are valid. The bank's BIK and the settlement account are optional, but go together."""
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    kind = PayerType(payer_type) if payer_type in PayerType.__members__.values() else None
    if kind is None:
        refuse("type", "The payer's type is LEGAL (a legal entity) or INDIVIDUAL (an individual).")

    _check_inn(refuse, inn, kind)
    _check_kpp(refuse, kpp, kind)
    _check_bank(refuse, bik, bank_account)
    return errors


def _present(value: object) -> bool:
    return value is not None and value != ""


def _check_inn(refuse, inn: object, kind: PayerType | None) -> None:
    if not _present(inn):
        refuse("inn", "The INN is required.")
        return
    if not isinstance(inn, str) or not _DIGITS.fullmatch(inn):
        refuse("inn", "The INN is written in digits only, with no spaces or other characters.")
        return
    if kind is PayerType.LEGAL and len(inn) != 10:
        refuse("inn", "A legal entity's INN has 10 digits.")
    elif kind is PayerType.INDIVIDUAL and len(inn) != 12:
        refuse("inn", "An individual's INN has 12 digits.")
    elif len(inn) not in (10, 12):
        refuse("inn", "An INN has 10 digits (a legal entity) or 12 (an individual).")
    elif not is_valid_inn(inn):
        refuse("inn", "The INN's check digits do not match: there is a mistake in the number.")


def _check_kpp(refuse, kpp: object, kind: PayerType | None) -> None:
    if kind is PayerType.INDIVIDUAL:
        if _present(kpp):
            refuse("kpp", "An individual has no KPP; leave it empty.")
        return
    if not _present(kpp):
        if kind is PayerType.LEGAL:
            refuse("kpp", "A legal entity's KPP is required.")
        return
    if not isinstance(kpp, str) or not _KPP.fullmatch(kpp):
        refuse(
            "kpp",
            "The KPP has 9 characters: 4 digits, then 2 digits or capital Latin letters, then 3 digits "
            "(such as 773601001).",
        )


def _check_bank(refuse, bik: object, account: object) -> None:
    bik_ok = account_ok = False
    if _present(bik):
        bik_ok = isinstance(bik, str) and bool(_BIK.fullmatch(bik))
        if not bik_ok:
            refuse("bik", "The bank's BIK has 9 digits (such as 044525225).")
    elif _present(account):
        refuse("bik", "The bank's BIK is required with a settlement account.")
    if _present(account):
        account_ok = isinstance(account, str) and bool(_ACCOUNT.fullmatch(account))
        if not account_ok:
            refuse("bank_account", "The settlement account has 20 digits, with no spaces or other characters.")
    elif _present(bik):
        refuse("bank_account", "The settlement account is required with the bank's BIK.")
    if bik_ok and account_ok and not account_key_matches(bik=bik, account=account):
        refuse(
            "bank_account",
            "The settlement account's control key does not match the bank's BIK: there is a mistake in the "
            "account or in the BIK.",
        )
