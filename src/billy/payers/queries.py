"""Reads of payers and contracts."""

from __future__ import annotations

from billy.clients.models import Client
from billy.core.pagination import check_limit, decode_id_cursor, encode_id_cursor
from billy.core.validation import MAX_ID_LENGTH, is_printable_text

from .errors import ContractNotFound, NoActiveContract, PayerNotFound
from .models import Contract, Payer


def could_be_id(value: str) -> bool:
    """Whether a consumer's id could name anything (PostgreSQL refuses NUL: never send it one)."""
    return bool(value) and len(value) <= MAX_ID_LENGTH and is_printable_text(value)


def get_payer(*, client: Client, payer_id: str) -> Payer:
    payer = Payer.objects.filter(client=client, payer_id=payer_id).first() if could_be_id(payer_id) else None
    if payer is None:
        raise PayerNotFound(details={"payer_id": payer_id[:128]})
    return payer


def _page(rows, *, limit: int, cursor: str | None):
    check_limit(limit)
    after = decode_id_cursor(cursor)
    if after is not None:
        rows = rows.filter(id__lt=after)
    page = list(rows.order_by("-id")[: limit + 1])
    return page[:limit], (encode_id_cursor(page[limit - 1].id) if len(page) > limit else None)


def list_payers(*, client: Client, limit: int, cursor: str | None) -> tuple[list[Payer], str | None]:
    """The client's payers, newest first, and the next page's cursor (None at the end)."""
    return _page(Payer.objects.filter(client=client), limit=limit, cursor=cursor)


def get_contract(*, client: Client, contract_id: str) -> Contract:
    contract = None
    if could_be_id(contract_id):
        contract = Contract.objects.select_related("payer").filter(client=client, contract_id=contract_id).first()
    if contract is None:
        raise ContractNotFound(details={"contract_id": contract_id[:128]})
    return contract


def list_contracts(*, client: Client, limit: int, cursor: str | None) -> tuple[list[Contract], str | None]:
    return _page(Contract.objects.select_related("payer").filter(client=client), limit=limit, cursor=cursor)


def active_contract(*, client: Client) -> Contract:
    """The client's ACTIVE contract in its wallet's currency; NoActiveContract when there is none."""
    contract = (
        Contract.objects.select_related("payer", "client__workspace")
        .filter(client=client, currency=client.workspace.currency, status=Contract.Status.ACTIVE)
        .first()
    )
    if contract is None:
        raise NoActiveContract()
    return contract


def unbound_contracts() -> list[int]:
    """Contracts in Balance whose personal account is not bound yet (the janitor's)."""
    return list(
        Contract.objects.filter(status=Contract.Status.PENDING, balance_contract_id__isnull=False).values_list(
            "pk", flat=True
        )
    )
