"""Russian requisites: INN, KPP, BIK and settlement account, by the FNS and Bank of Russia rules.

The check digits here are computed by the test's own reading of the published rules, not by the
module under test, and the published examples anchor that reading: Sberbank's INN 7707083893, and the
Bank of Russia's worked examples (account 40602810700000000025 at BIK 049805746; correspondent account
30101810800000000746 at the cash-settlement centre with BIK 049805000).
"""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from billy.payers.requisites import is_valid_inn, validate_payer_requisites

SBERBANK_BIK = "044525225"


def fns_digit(digits: str, weights: list[int]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10)


def legal_inn(first_nine: str) -> str:
    return first_nine + fns_digit(first_nine, [2, 4, 10, 3, 5, 9, 4, 6, 8])


def individual_inn(first_ten: str) -> str:
    eleven = first_ten + fns_digit(first_ten, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8])
    return eleven + fns_digit(eleven, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8])


def cbr_sum(digits: str) -> int:
    return sum(int(d) * (7, 1, 3)[i % 3] for i, d in enumerate(digits))


def account_with_key(bik: str, account: str) -> str:
    """`account` (20 digits, the ninth a placeholder) with the control key of a credit institution's
    client account: the BIK's last three digits before it, weights 7 1 3, the lowest digit of the sum
    times 3, lowest digit (the Bank of Russia's worked example, step by step)."""
    zeroed = account[:8] + "0" + account[9:]
    key = (cbr_sum(bik[6:9] + zeroed) % 10 * 3) % 10
    return account[:8] + str(key) + account[9:]


SBERBANK_CLIENT_ACCOUNT = account_with_key(SBERBANK_BIK, "40702810_38000000000")

LEGAL = {
    "payer_type": "LEGAL",
    "inn": "7707083893",
    "kpp": "773601001",
    "bik": SBERBANK_BIK,
    "bank_account": SBERBANK_CLIENT_ACCOUNT,
}
INDIVIDUAL = {"payer_type": "INDIVIDUAL", "inn": individual_inn("5001007322"), "kpp": None}


def test_the_test_reads_the_rules_as_their_published_examples_do():
    assert legal_inn("770708389") == "7707083893"  # Sberbank
    assert individual_inn("5001007322") == "500100732259"
    assert account_with_key("049805746", "40602810_00000000025") == "40602810700000000025"
    assert SBERBANK_CLIENT_ACCOUNT == "40702810638000000000"


@pytest.mark.parametrize(
    "requisites",
    [
        pytest.param(LEGAL, id="legal entity with its bank"),
        pytest.param({**LEGAL, "bik": None, "bank_account": None}, id="legal entity without a bank"),
        pytest.param({**LEGAL, "bik": "", "bank_account": ""}, id="legal entity, bank left empty"),
        pytest.param({**LEGAL, "kpp": "7736AB001"}, id="KPP with a letter reason code"),
        pytest.param({**LEGAL, "inn": legal_inn("502700111")}, id="another region's legal entity"),
        pytest.param(
            {**LEGAL, "bik": "049805746", "bank_account": "40602810700000000025"}, id="Bank of Russia's example"
        ),
        pytest.param(
            {**LEGAL, "bik": SBERBANK_BIK, "bank_account": "30101810400000000225"}, id="a bank's correspondent account"
        ),
        pytest.param(
            {**LEGAL, "bik": "049805000", "bank_account": "30101810800000000746"}, id="account at a settlement centre"
        ),
        pytest.param(INDIVIDUAL, id="individual"),
        pytest.param({**INDIVIDUAL, "kpp": ""}, id="individual, KPP left empty"),
        pytest.param(
            {**INDIVIDUAL, "bik": SBERBANK_BIK, "bank_account": account_with_key(SBERBANK_BIK, "40817810_38000123456")},
            id="individual's current account",
        ),
    ],
)
def test_valid_requisites_have_no_problems(requisites):
    assert validate_payer_requisites(**requisites) == {}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"payer_type": "legal"}, "type", "The payer's type is LEGAL (a legal entity) or INDIVIDUAL (an individual)."),
        ({"payer_type": None}, "type", "The payer's type is LEGAL (a legal entity) or INDIVIDUAL (an individual)."),
        ({"inn": None}, "inn", "The INN is required."),
        ({"inn": ""}, "inn", "The INN is required."),
        ({"inn": "7707083894"}, "inn", "The INN's check digits do not match: there is a mistake in the number."),
        ({"inn": "7707 083893"}, "inn", "The INN is written in digits only, with no spaces or other characters."),
        ({"inn": 7707083893}, "inn", "The INN is written in digits only, with no spaces or other characters."),
        (
            {"inn": "７７０７０８３８９３"},
            "inn",
            "The INN is written in digits only, with no spaces or other characters.",
        ),
        ({"inn": "500100732259"}, "inn", "A legal entity's INN has 10 digits."),
        ({"kpp": None}, "kpp", "A legal entity's KPP is required."),
        ({"kpp": "77360100"}, "kpp", "The KPP has 9 characters: 4 digits, then 2 digits or capital Latin letters, "),
        ({"kpp": "7736ab001"}, "kpp", "The KPP has 9 characters"),
        ({"kpp": "77AB01001"}, "kpp", "The KPP has 9 characters"),
        ({"kpp": "7736АБ001"}, "kpp", "The KPP has 9 characters"),  # Cyrillic letters
        ({"kpp": "773601001 "}, "kpp", "The KPP has 9 characters"),
        ({"bik": "04452522"}, "bik", "The bank's BIK has 9 digits (such as 044525225)."),
        ({"bik": "04452522x"}, "bik", "The bank's BIK has 9 digits"),
        ({"bik": None}, "bik", "The bank's BIK is required with a settlement account."),
        ({"bank_account": None}, "bank_account", "The settlement account is required with the bank's BIK."),
        ({"bank_account": "4070281063800000000"}, "bank_account", "The settlement account has 20 digits, with no "),
        ({"bank_account": "40702 810 6 38000000000"}, "bank_account", "The settlement account has 20 digits"),
        ({"bank_account": "40702810938000000000"}, "bank_account", "The settlement account's control key does not "),
        ({"bik": "044525974"}, "bank_account", "The settlement account's control key does not match the bank's BIK"),
    ],
)
def test_a_legal_entitys_wrong_field_is_named_with_what_is_wrong(change, field, message):
    problems = validate_payer_requisites(**{**LEGAL, **change})

    assert list(problems) == [field]
    assert len(problems[field]) == 1
    assert problems[field][0].startswith(message)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"inn": "7707083893"}, "inn", "An individual's INN has 12 digits."),
        ({"inn": individual_inn("5001007322")[:11] + "0"}, "inn", "The INN's check digits do not match"),
        ({"kpp": "773601001"}, "kpp", "An individual has no KPP; leave it empty."),
    ],
)
def test_an_individuals_wrong_field_is_named_with_what_is_wrong(change, field, message):
    problems = validate_payer_requisites(**{**INDIVIDUAL, **change})

    assert list(problems) == [field]
    assert problems[field][0].startswith(message)


def test_with_an_unknown_type_the_inn_is_still_checked_by_its_length_and_digits():
    problems = validate_payer_requisites(payer_type="ORGANISATION", inn="77070838", kpp="773601001")

    assert problems == {
        "type": ["The payer's type is LEGAL (a legal entity) or INDIVIDUAL (an individual)."],
        "inn": ["An INN has 10 digits (a legal entity) or 12 (an individual)."],
    }


def test_every_wrong_field_is_reported_at_once():
    problems = validate_payer_requisites(
        payer_type="LEGAL", inn="7707083890", kpp="7736", bik="0445", bank_account=SBERBANK_CLIENT_ACCOUNT
    )

    assert set(problems) == {"inn", "kpp", "bik"}  # the account's key is not checked against a broken BIK


def test_every_single_digit_change_of_the_sberbank_client_account_is_refused():
    for position in range(20):
        for digit in "0123456789":
            changed = SBERBANK_CLIENT_ACCOUNT[:position] + digit + SBERBANK_CLIENT_ACCOUNT[position + 1 :]
            problems = validate_payer_requisites(**{**LEGAL, "bank_account": changed})
            assert ("bank_account" in problems) == (changed != SBERBANK_CLIENT_ACCOUNT), changed


# -- properties ------------------------------------------------------------------------------------

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


def replace(text: str, position: int, digit: str) -> str:
    return text[:position] + digit + text[position + 1 :]


def fns_remainders(inn: str) -> list[int]:
    """The weighted sums mod 11 whose last digits are an INN's check digits."""
    if len(inn) == 10:
        return [sum(int(d) * w for d, w in zip(inn, [2, 4, 10, 3, 5, 9, 4, 6, 8], strict=False)) % 11]
    first = sum(int(d) * w for d, w in zip(inn, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8], strict=False)) % 11
    second = sum(int(d) * w for d, w in zip(inn, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8], strict=False)) % 11
    return [first, second]


def blind_spot(valid: str, changed: str) -> bool:
    """The FNS rule takes a remainder of 10 as the check digit 0, so a change that moves a remainder
    between 0 and 10 (and leaves the other one alone) keeps the check digits: such numbers are valid
    INNs by the rule, and a real one must not be refused."""
    return all(a == b or {a, b} == {0, 10} for a, b in zip(fns_remainders(valid), fns_remainders(changed), strict=True))


@given(leading=st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_a_generated_legal_entitys_inn_passes(leading):
    assert validate_payer_requisites(payer_type="LEGAL", inn=legal_inn(leading), kpp="773601001") == {}


@given(leading=st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_a_generated_individuals_inn_passes(leading):
    assert validate_payer_requisites(payer_type="INDIVIDUAL", inn=individual_inn(leading)) == {}


@given(
    leading=st.text(alphabet="0123456789", min_size=10, max_size=10),
    legal=st.booleans(),
    position=st.integers(min_value=0, max_value=11),
    digit=digits,
)
def test_a_single_digit_change_of_a_valid_inn_is_refused(leading, legal, position, digit):
    valid = legal_inn(leading[:9]) if legal else individual_inn(leading)
    changed = replace(valid, position % len(valid), digit)
    assume(changed != valid)
    assume(not blind_spot(valid, changed))

    assert not is_valid_inn(changed)
    payer_type = "LEGAL" if legal else "INDIVIDUAL"
    assert "inn" in validate_payer_requisites(payer_type=payer_type, inn=changed, kpp="773601001" if legal else None)


def test_the_rules_blind_spot_is_a_valid_inn_as_the_fns_computes_it():
    # 7707083910: remainder 0, check digit 0; one digit changed, 7707083710: remainder 10, check digit 0.
    assert fns_remainders("7707083910") == [0]
    assert fns_remainders("7707083710") == [10]

    assert is_valid_inn("7707083910")
    assert is_valid_inn("7707083710")


@given(
    region=st.text(alphabet="0123456789", min_size=2, max_size=2),
    centre=st.text(alphabet="0123456789", min_size=2, max_size=2),
    office=st.integers(min_value=50, max_value=999),
    account=st.text(alphabet="0123456789", min_size=20, max_size=20),
)
def test_a_generated_account_with_its_key_passes_at_its_bank(region, centre, office, account):
    bik = f"04{region}{centre}{office:03d}"
    assume(not account.startswith("30101"))  # a correspondent account is keyed to its settlement centre
    valid = account_with_key(bik, account)

    assert validate_payer_requisites(**{**LEGAL, "bik": bik, "bank_account": valid}) == {}


@given(
    office=st.integers(min_value=50, max_value=999),
    account=st.text(alphabet="0123456789", min_size=20, max_size=20),
    position=st.integers(min_value=0, max_value=19),
    digit=digits,
)
def test_a_single_digit_change_of_a_valid_account_is_refused(office, account, position, digit):
    bik = f"044525{office:03d}"
    assume(not account.startswith("30101"))
    valid = account_with_key(bik, account)
    changed = replace(valid, position, digit)
    assume(changed != valid and not changed.startswith("30101"))

    assert "bank_account" in validate_payer_requisites(**{**LEGAL, "bik": bik, "bank_account": changed})


@given(office=st.integers(min_value=50, max_value=999), other=st.integers(min_value=50, max_value=999))
def test_a_valid_account_is_refused_at_another_bank(office, other):
    bik = f"044525{office:03d}"
    valid = account_with_key(bik, "40702810_38000000000")
    assume(cbr_sum(f"{other:03d}") % 10 != cbr_sum(f"{office:03d}") % 10)  # else the key fits both banks

    assert "bank_account" in validate_payer_requisites(**{**LEGAL, "bik": f"044525{other:03d}", "bank_account": valid})
