"""A client's payers over HTTP: create or update one in Balance under the consumer's own id, read back."""

from __future__ import annotations

from ninja import Field, Query, Router, Schema, Status

from billy.core import clock
from billy.core.pagination import MAX_LIMIT
from billy.integrations.balance import get_balance
from billy.payers import operations, queries
from billy.payers.models import Payer
from billy.payers.validation import PayerFields

from .fields import Timestamp
from .keys import keyed_answer
from .openapi import raises
from .scope import CLIENT_PATH, client_in_scope
from .strict import StrictSchema, one_of

router = Router(tags=["payers"])

PayerType = one_of(Payer.Type)
PayerStatus = one_of(Payer.Status)
PAYER_PATH = CLIENT_PATH + "/payers/{payer_id}"


class PayerIn(StrictSchema):
    type: PayerType = Field(description="LEGAL (a legal entity) or INDIVIDUAL (an individual, an entrepreneur too).")
    name: str = Field(json_schema_extra={"minLength": 1, "maxLength": 256})
    long_name: str | None = Field(None, description="The full name.", json_schema_extra={"maxLength": 512})
    inn: str = Field(
        description="10 digits (LEGAL) or 12 (INDIVIDUAL), with valid check digits.",
        json_schema_extra={"examples": ["7707083893"], "maxLength": 12},
    )
    kpp: str | None = Field(
        None, description="LEGAL only: 9 characters.", json_schema_extra={"examples": ["773601001"], "maxLength": 9}
    )
    email: str = Field(json_schema_extra={"format": "email", "maxLength": 128})
    phone: str = Field(json_schema_extra={"examples": ["+74951234567"], "maxLength": 32})
    legal_address: str = Field(json_schema_extra={"minLength": 1, "maxLength": 512})
    postal_address: str | None = Field(None, json_schema_extra={"maxLength": 512})
    bik: str | None = Field(None, description="The bank's 9 digits.", json_schema_extra={"maxLength": 9})
    bank_account: str | None = Field(
        None, description="20 digits whose control key matches the BIK.", json_schema_extra={"maxLength": 20}
    )


class PayerOut(Schema):
    payer_id: str
    client: str
    type: PayerType
    name: str
    long_name: str | None
    inn: str
    kpp: str | None
    email: str
    phone: str = Field(description="E.164.")
    legal_address: str
    postal_address: str | None
    bik: str | None
    bank_account: str | None
    status: PayerStatus = Field(description="PENDING (not yet in Balance), ACTIVE or NEEDS_ATTENTION.")
    created_at: Timestamp
    updated_at: Timestamp


class PayerPage(Schema):
    payers: list[PayerOut]
    next_cursor: str | None


def payer_out(payer: Payer, service_client_id: str) -> PayerOut:
    return PayerOut(
        payer_id=payer.payer_id,
        client=service_client_id,
        type=payer.type,
        name=payer.name,
        long_name=payer.long_name or None,
        inn=payer.inn,
        kpp=payer.kpp or None,
        email=payer.email,
        phone=payer.phone,
        legal_address=payer.legal_address,
        postal_address=payer.postal_address or None,
        bik=payer.bik or None,
        bank_account=payer.bank_account or None,
        status=payer.status,
        created_at=payer.created_at,
        updated_at=payer.updated_at,
    )


@router.put(PAYER_PATH, response={200: PayerOut, 201: PayerOut}, summary="Create or update a payer (in Balance too)")
@raises(
    "client_not_found",
    "invalid_state",
    "needs_attention",
    "upstream_rejected",
    "upstream_error",
    "upstream_unavailable",
)
def put_payer(request, workspace: str, service_client_id: str, payer_id: str, payload: PayerIn):
    """201 when this call created the payer in Balance; 200 when it updated it or nothing changed
    (the same body calls nothing). `payer_id` is yours: 1 to 128 of A-Z a-z 0-9 . _ ~ -. The
    requisites are checked as an accountant would (INN check digits, KPP, BIK, the account's
    control key): each problem is 422 `validation_failed` naming the field, with nothing stored
    and Balance not called. 409 `invalid_state` while the client is not in Balance yet."""
    ws, client = client_in_scope(request, workspace, service_client_id)

    def run():
        result = operations.put_payer(
            client=client,
            payer_id=payer_id,
            fields=PayerFields(
                type=payload.type,
                name=payload.name,
                inn=payload.inn,
                email=payload.email,
                phone=payload.phone,
                legal_address=payload.legal_address,
                long_name=payload.long_name or "",
                kpp=payload.kpp or "",
                postal_address=payload.postal_address or "",
                bik=payload.bik or "",
                bank_account=payload.bank_account or "",
            ),
            balance=get_balance(),
            now=clock.now(),
        )
        return 201 if result.created else 200, payer_out(result.payer, service_client_id)

    return keyed_answer(
        request,
        workspace=ws,
        operation="put_payer",
        fingerprint={"client": service_client_id, "payer_id": payer_id, **payload.model_dump()},
        run=run,
    )


@router.get(PAYER_PATH, response={200: PayerOut}, summary="Get a payer")
@raises("client_not_found", "payer_not_found")
def get_payer(request, workspace: str, service_client_id: str, payer_id: str):
    _, client = client_in_scope(request, workspace, service_client_id)
    return Status(200, payer_out(queries.get_payer(client=client, payer_id=payer_id), service_client_id))


@router.get(CLIENT_PATH + "/payers", response={200: PayerPage}, summary="The client's payers")
@raises("client_not_found")
def list_payers(
    request,
    workspace: str,
    service_client_id: str,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
):
    """Newest first; `next_cursor` is null on the last page."""
    _, client = client_in_scope(request, workspace, service_client_id)
    payers, next_cursor = queries.list_payers(client=client, limit=limit, cursor=cursor)
    return Status(200, PayerPage(payers=[payer_out(p, service_client_id) for p in payers], next_cursor=next_cursor))
