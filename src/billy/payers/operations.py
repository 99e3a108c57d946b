"""Writes for payers: create or update a client's payer in Balance (CreatePerson), write first."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError

from billy.clients.models import Client
from billy.core.locks import session_lock
from billy.core.write_first import NeedsAttention, adopt_or_flag, update_row
from billy.integrations.balance.port import Balance, BalanceError, BalanceOutcomeUnknown, PersonData, PersonType

from .models import Payer
from .upstream import require_autocommit, require_registered, translate
from .validation import PayerFields, validate_payer_fields

logger = logging.getLogger(__name__)

_PAYER_LOCK = 0x70617972  # "payr": work on one payer, across processes


@dataclass(frozen=True)
class PayerResult:
    payer: Payer
    created: bool  # this call created the payer in Balance


def put_payer(*, client: Client, payer_id: str, fields: PayerFields, balance: Balance, now: dt.datetime) -> PayerResult:
    """Create or update the client's payer in billy and in Balance; the same fields again call nothing.

    Commits as it goes (write first). Raises ValidationFailed (nothing stored, Balance not called),
    InvalidState (the client is not in Balance yet), NeedsAttention, UpstreamUnavailable (repeat
    the call: it resumes), UpstreamRejected, UpstreamError.
    """
    require_autocommit("put_payer")
    fields = validate_payer_fields(payer_id=payer_id, fields=fields)
    require_registered(client)
    pk = _insert_pending(client=client, payer_id=payer_id, fields=fields, now=now)
    with session_lock(_PAYER_LOCK, pk):
        payer = Payer.objects.get(pk=pk)
        created = _advance(payer, client=client, fields=fields, balance=balance, now=now)
    return PayerResult(payer=payer, created=created)


def recheck_payer_in_balance(*, payer_pk: int, balance: Balance, now: dt.datetime) -> Payer:
    """Operator: look a NEEDS_ATTENTION payer up in Balance again and adopt exactly one match."""
    with session_lock(_PAYER_LOCK, payer_pk):
        payer = Payer.objects.select_related("client").get(pk=payer_pk)
        if payer.status == Payer.Status.NEEDS_ATTENTION:
            _adopt_or_flag(payer, client=payer.client, balance=balance, now=now)
        return payer


def create_payer_in_balance_anyway(*, payer_pk: int, balance: Balance, now: dt.datetime) -> Payer:
    """Operator: Balance holds none of the candidates for this payer; create it there now."""
    with session_lock(_PAYER_LOCK, payer_pk):
        payer = Payer.objects.select_related("client").get(pk=payer_pk)
        if payer.status == Payer.Status.NEEDS_ATTENTION:
            update_row(
                payer, status=Payer.Status.PENDING, payer_call_started_at=None, attention_reason="", updated_at=now
            )
            _create(payer, client=payer.client, fields=fields_of(payer), balance=balance, now=now)
        return payer


def fields_of(payer: Payer) -> PayerFields:
    return PayerFields(**{f.name: getattr(payer, f.name) for f in dataclasses.fields(PayerFields)})


def person_data(fields: PayerFields) -> PersonData:
    return PersonData(
        type=PersonType(fields.type),
        name=fields.name,
        inn=fields.inn,
        email=fields.email,
        phone=fields.phone,
        legal_address=fields.legal_address,
        long_name=fields.long_name or None,
        kpp=fields.kpp or None,
        post_address=fields.postal_address or None,
        bik=fields.bik or None,
        bank_account=fields.bank_account or None,
    )


# -- internals -------------------------------------------------------------------------------


def _insert_pending(*, client: Client, payer_id: str, fields: PayerFields, now: dt.datetime) -> int:
    Payer.objects.bulk_create(
        [
            Payer(
                workspace_id=client.workspace_id,
                client=client,
                payer_id=payer_id,
                status=Payer.Status.PENDING,
                created_at=now,
                updated_at=now,
                **dataclasses.asdict(fields),
            )
        ],
        ignore_conflicts=True,
    )
    return Payer.objects.values_list("pk", flat=True).get(client=client, payer_id=payer_id)


def _advance(payer: Payer, *, client: Client, fields: PayerFields, balance: Balance, now: dt.datetime) -> bool:
    if payer.status == Payer.Status.NEEDS_ATTENTION:
        raise NeedsAttention(payer.attention_reason or None)
    created = False
    if payer.status == Payer.Status.PENDING and payer.payer_call_started_at is not None:
        _adopt_or_flag(payer, client=client, balance=balance, now=now)
        created = payer.status == Payer.Status.ACTIVE
    if payer.status == Payer.Status.PENDING:
        _create(payer, client=client, fields=fields, balance=balance, now=now)
        return True
    if fields_of(payer) != fields:
        try:
            balance.create_person(
                client_id=client.balance_client_id, data=person_data(fields), person_id=payer.balance_person_id
            )
        except BalanceError as e:  # an update: safe to repeat, so nothing to resolve
            raise translate(e, "updating the payer") from e
        update_row(payer, updated_at=now, **dataclasses.asdict(fields))
    return created


def _create(payer: Payer, *, client: Client, fields: PayerFields, balance: Balance, now: dt.datetime) -> None:
    # Write first: from this commit on, a person with these fields may exist in Balance.
    update_row(payer, payer_call_started_at=now, updated_at=now, **dataclasses.asdict(fields))
    try:
        person_id = balance.create_person(client_id=client.balance_client_id, data=person_data(fields))
    except BalanceOutcomeUnknown as e:
        logger.warning("CreatePerson for payer %s has an unknown outcome: %s", payer.pk, e)
        raise translate(e, "creating the payer") from e
    except BalanceError as e:
        update_row(payer, payer_call_started_at=None)  # it took no effect
        raise translate(e, "creating the payer") from e
    _record(payer, person_id=person_id, now=now)


def _matches(found: PersonData, fields: PayerFields) -> bool:
    """The business fields a person read back is matched on."""

    def key(d: PersonData):
        return (d.type, d.name, d.inn, d.kpp or "", d.email, d.phone)

    return key(found) == key(person_data(fields))


def _adopt_or_flag(payer: Payer, *, client: Client, balance: Balance, now: dt.datetime) -> None:
    """After an unknown outcome: adopt the one unclaimed person with the payer's fields (see
    `billy.core.write_first`); none: PENDING again with no call in flight; several: NEEDS_ATTENTION."""
    try:
        persons = balance.get_client_persons(client_id=client.balance_client_id)
    except BalanceError as e:
        raise translate(e, "looking the payer up") from e
    ids = [p.person_id for p in persons if _matches(p.data, fields_of(payer))]
    taken = set(Payer.objects.filter(balance_person_id__in=ids).values_list("balance_person_id", flat=True))
    candidates = [i for i in ids if i not in taken]
    adopted = adopt_or_flag(
        payer,
        candidates=candidates,
        started_field="payer_call_started_at",
        what="persons with this payer's data",
        call="CreatePerson",
        now=now,
    )
    if adopted is None:
        return
    logger.info("payer %s adopts Balance person %s after an unknown outcome", payer.pk, adopted)
    _record(payer, person_id=adopted, now=now)


def _record(payer: Payer, *, person_id: int, now: dt.datetime) -> None:
    try:
        update_row(
            payer,
            balance_person_id=person_id,
            status=Payer.Status.ACTIVE,
            payer_call_started_at=None,
            attention_reason="",
            updated_at=now,
        )
    except IntegrityError:
        reason = f"Balance person {person_id} is already mapped to another payer."
        update_row(payer, status=Payer.Status.NEEDS_ATTENTION, attention_reason=reason, updated_at=now)
        raise NeedsAttention(reason) from None
