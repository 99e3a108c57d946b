"""Writes for clients: registration in Balance and the operator's ways out of NEEDS_ATTENTION."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from billy.core.errors import BillyError, UpstreamError, UpstreamRejected, UpstreamUnavailable
from billy.core.locks import session_lock
from billy.core.tasks import defer
from billy.core.write_first import Ambiguous, ambiguous_reason, resolve_unknown_outcome
from billy.integrations.balance.port import (
    Balance,
    BalanceError,
    BalanceFault,
    BalanceOutcomeUnknown,
    BalanceUnavailable,
    ClientData,
)
from billy.workspaces.models import Workspace

from .models import Client
from .validation import ClientFields, validate_client_fields

logger = logging.getLogger(__name__)

# Namespaces of the session advisory locks taken here (billy.core.locks); the key is the client's id
# or the client's data in Balance (name, email, phone).
_REGISTRATION_LOCK = 0x62696C6C  # "bill"
_BALANCE_DATA_LOCK = 0x62616C61  # "bala"


class ClientNeedsAttention(BillyError):
    code = "client_needs_attention"
    default_message = "The client's registration in Balance is ambiguous; an operator will resolve it."


@dataclass(frozen=True)
class Registration:
    client: Client
    created: bool  # this call completed the client's registration in Balance


def register_client(
    *,
    workspace: Workspace,
    service_client_id: str,
    name: str,
    email: str,
    phone: str,
    balance: Balance,
    now: dt.datetime,
) -> Registration:
    """Create or update a client in billy and in Balance; a repeat with the same data calls nothing.

    Commits as it goes (write first, then call Balance), so it must not run inside a transaction.
    Raises ValidationFailed (nothing stored, Balance not called); ClientNeedsAttention;
    UpstreamUnavailable (retry: the registration resumes where it stopped); UpstreamRejected or
    UpstreamError when Balance refuses.
    """
    _require_autocommit()
    fields = validate_client_fields(service_client_id=service_client_id, name=name, email=email, phone=phone)
    client_pk = _insert_pending(workspace=workspace, service_client_id=service_client_id, fields=fields, now=now)
    with _registration_lock(client_pk):
        client = Client.objects.select_related("workspace").get(pk=client_pk)
        created = _advance(client, fields=fields, balance=balance, now=now)
    return Registration(client=client, created=created)


def resume_client_registration(*, client_id: int, balance: Balance, now: dt.datetime) -> Client:
    """Janitor: finish a registration its caller abandoned, with the data the client row holds.

    Raises what register_client raises; a client that is not PENDING is left alone.
    """
    _require_autocommit()
    with _registration_lock(client_id):
        client = Client.objects.select_related("workspace").get(pk=client_id)
        if client.status == Client.Status.PENDING:
            fields = ClientFields(name=client.name, email=client.email, phone=client.phone)
            _advance(client, fields=fields, balance=balance, now=now)
        return client


def link_client_configuration(*, client_id: int, balance: Balance, now: dt.datetime) -> bool:
    """Link a registered client to its workspace's Balance configuration; True when linked now.

    Idempotent: a linked client (or one not yet in Balance) is left alone. Raises BalanceError.
    """
    client = Client.objects.select_related("workspace").get(pk=client_id)
    if client.configuration_linked_at is not None or client.balance_client_id is None:
        return False
    balance.link_client_to_configuration(
        client_id=client.balance_client_id,
        integration=client.workspace.balance_integration,
        configuration=client.workspace.balance_configuration,
    )
    Client.objects.filter(pk=client_id, configuration_linked_at__isnull=True).update(
        configuration_linked_at=now, updated_at=now
    )
    client.configuration_linked_at = now
    return True


def recheck_client_in_balance(*, client_id: int, balance: Balance, now: dt.datetime) -> Client:
    """Operator: look a NEEDS_ATTENTION client up in Balance again and adopt exactly one match.

    Raises ClientNeedsAttention (with the reason) when it is still ambiguous, UpstreamUnavailable.
    """
    _require_autocommit()
    with _registration_lock(client_id):
        client = Client.objects.select_related("workspace").get(pk=client_id)
        if client.status != Client.Status.NEEDS_ATTENTION:
            return client
        _adopt_or_flag(client, balance=balance, now=now)
        _link_now_or_later(client, balance=balance, now=now)
        return client


def create_client_in_balance_anyway(*, client_id: int, balance: Balance, now: dt.datetime) -> Client:
    """Operator: they checked Balance holds no client for this one; create it there now.

    Raises UpstreamUnavailable, UpstreamRejected, UpstreamError.
    """
    _require_autocommit()
    with _registration_lock(client_id):
        client = Client.objects.select_related("workspace").get(pk=client_id)
        if client.status != Client.Status.NEEDS_ATTENTION:
            return client
        Client.objects.filter(pk=client_id).update(
            status=Client.Status.PENDING, balance_call_started_at=None, attention_reason="", updated_at=now
        )
        client.status, client.balance_call_started_at, client.attention_reason = Client.Status.PENDING, None, ""
        fields = ClientFields(name=client.name, email=client.email, phone=client.phone)
        _create_in_balance(client, fields=fields, balance=balance, now=now)
        _link_now_or_later(client, balance=balance, now=now)
        return client


# -- internals -------------------------------------------------------------------------------


def _advance(client: Client, *, fields: ClientFields, balance: Balance, now: dt.datetime) -> bool:
    """Move a locked client towards ACTIVE with `fields`, linked; True when it became ACTIVE now."""
    created = False
    if client.status == Client.Status.NEEDS_ATTENTION:
        raise ClientNeedsAttention(client.attention_reason or None)
    if client.status == Client.Status.PENDING and client.balance_call_started_at is not None:
        _adopt_or_flag(client, balance=balance, now=now)
        created = True
    if client.status == Client.Status.PENDING:
        _create_in_balance(client, fields=fields, balance=balance, now=now)
        created = True
    elif (client.name, client.email, client.phone) != (fields.name, fields.email, fields.phone):
        _update_in_balance(client, fields=fields, balance=balance, now=now)
    if client.configuration_linked_at is None:
        _link_now_or_later(client, balance=balance, now=now)
    return created


def _require_autocommit() -> None:
    if connection.in_atomic_block:
        raise RuntimeError("client registration commits step by step; call it outside transaction.atomic()")


def _insert_pending(*, workspace: Workspace, service_client_id: str, fields: ClientFields, now: dt.datetime) -> int:
    """The client's id, inserting a PENDING row with `fields` when it is new (committed at once)."""
    Client.objects.bulk_create(
        [
            Client(
                workspace=workspace,
                service_client_id=service_client_id,
                name=fields.name,
                email=fields.email,
                phone=fields.phone,
                status=Client.Status.PENDING,
                created_at=now,
                updated_at=now,
            )
        ],
        ignore_conflicts=True,
    )
    return Client.objects.values_list("pk", flat=True).get(workspace=workspace, service_client_id=service_client_id)


def _registration_lock(client_pk: int):
    """Serialise registration work on one client across processes."""
    return session_lock(_REGISTRATION_LOCK, client_pk)


def _balance_data_lock(name: str, email: str, phone: str):
    """Serialise creating and adopting Balance clients with the same data, in every workspace:
    an adoption must never take a client another registration has just created."""
    return session_lock(_BALANCE_DATA_LOCK, "\x1f".join((name, email, phone)))


def _translate(error: BalanceError, action: str) -> BillyError:
    retry_after = settings.BILLY_RETRY_AFTER_SECONDS
    if isinstance(error, BalanceUnavailable | BalanceOutcomeUnknown):
        return UpstreamUnavailable(f"Balance is unavailable ({action}); retry later.", retry_after=retry_after)
    if isinstance(error, BalanceFault) and error.code == "INVALID_PARAM":
        return UpstreamRejected(f"Balance refused the client: {error.message}", details={"balance_code": error.code})
    code = error.code if isinstance(error, BalanceFault) else type(error).__name__
    return UpstreamError(
        f"Balance answered with an error ({action}).", details={"balance_code": code}, retry_after=retry_after
    )


def _create_in_balance(client: Client, *, fields: ClientFields, balance: Balance, now: dt.datetime) -> None:
    # Write first: from this commit on, a client with these fields may exist in Balance.
    Client.objects.filter(pk=client.pk).update(
        name=fields.name, email=fields.email, phone=fields.phone, balance_call_started_at=now, updated_at=now
    )
    client.name, client.email, client.phone, client.balance_call_started_at = (
        fields.name,
        fields.email,
        fields.phone,
        now,
    )
    with _balance_data_lock(fields.name, fields.email, fields.phone):
        try:
            balance_client_id = balance.create_client(
                ClientData(name=fields.name, email=fields.email, phone=fields.phone)
            )
        except BalanceOutcomeUnknown as e:
            logger.warning("CreateClient for client %s has an unknown outcome: %s", client.pk, e)
            raise _translate(e, "creating the client") from e
        except BalanceError as e:
            # The call took no effect: nothing to look up before the next attempt.
            Client.objects.filter(pk=client.pk).update(balance_call_started_at=None)
            client.balance_call_started_at = None
            raise _translate(e, "creating the client") from e
        _record_balance_client_id(client, balance_client_id=balance_client_id, now=now)


def _adopt_or_flag(client: Client, *, balance: Balance, now: dt.datetime) -> None:
    """After an unknown outcome: adopt the one Balance client with our data; with none, the call did
    not happen once it is surely over, and the client is left PENDING with no call in flight, to be
    created again; several: NEEDS_ATTENTION (the rule: `billy.core.write_first`).

    A Balance client already mapped to any billy client, in any workspace, is never adopted.
    Raises UpstreamUnavailable while the call may still take effect, ClientNeedsAttention.
    """
    with _balance_data_lock(client.name, client.email, client.phone):
        try:
            matches = balance.find_clients(ClientData(name=client.name, email=client.email, phone=client.phone))
        except BalanceError as e:
            raise _translate(e, "looking the client up") from e
        ids = [m.client_id for m in matches]
        taken = set(Client.objects.filter(balance_client_id__in=ids).values_list("balance_client_id", flat=True))
        candidates = [i for i in ids if i not in taken]
        try:
            adopted = resolve_unknown_outcome(candidates=candidates, started_at=client.balance_call_started_at, now=now)
        except Ambiguous:
            adopted = None
        else:
            if adopted is not None:
                logger.info("client %s adopts Balance client %s after an unknown outcome", client.pk, adopted)
                _record_balance_client_id(client, balance_client_id=adopted, now=now)
                return
    if not candidates:
        logger.info("client %s: the CreateClient sent at %s left no trace", client.pk, client.balance_call_started_at)
        Client.objects.filter(pk=client.pk).update(balance_call_started_at=None, updated_at=now)
        client.balance_call_started_at = None
        return
    _flag(
        client,
        reason=ambiguous_reason(
            what="clients with this name, email and phone",
            call="CreateClient",
            started_at=client.balance_call_started_at,
            candidates=candidates,
        ),
        now=now,
    )


def _flag(client: Client, *, reason: str, now: dt.datetime) -> None:
    """NEEDS_ATTENTION with the reason, for an operator; raises ClientNeedsAttention."""
    Client.objects.filter(pk=client.pk).update(
        status=Client.Status.NEEDS_ATTENTION, attention_reason=reason, updated_at=now
    )
    client.status, client.attention_reason = Client.Status.NEEDS_ATTENTION, reason
    raise ClientNeedsAttention(reason)


def _record_balance_client_id(client: Client, *, balance_client_id: int, now: dt.datetime) -> None:
    try:
        _commit_balance_client_id(client, balance_client_id=balance_client_id, now=now)
    except IntegrityError:
        _flag(
            client,
            reason=f"Balance client {balance_client_id} is already mapped to another client of this workspace.",
            now=now,
        )
    client.balance_client_id, client.status, client.balance_call_started_at = (
        balance_client_id,
        Client.Status.ACTIVE,
        None,
    )
    client.attention_reason = ""
    client.updated_at = now


def _commit_balance_client_id(client: Client, *, balance_client_id: int, now: dt.datetime) -> None:
    with transaction.atomic():
        Client.objects.filter(pk=client.pk).update(
            balance_client_id=balance_client_id,
            status=Client.Status.ACTIVE,
            balance_call_started_at=None,
            attention_reason="",
            updated_at=now,
        )
        # The outbox: the link happens even if this process dies right after the commit.
        defer("billy.clients.link_client_configuration", client_id=client.pk)


def _update_in_balance(client: Client, *, fields: ClientFields, balance: Balance, now: dt.datetime) -> None:
    try:
        balance.create_client(
            ClientData(name=fields.name, email=fields.email, phone=fields.phone), client_id=client.balance_client_id
        )
    except BalanceError as e:
        raise _translate(e, "updating the client") from e
    Client.objects.filter(pk=client.pk).update(name=fields.name, email=fields.email, phone=fields.phone, updated_at=now)
    client.name, client.email, client.phone, client.updated_at = fields.name, fields.email, fields.phone, now


def _link_now_or_later(client: Client, *, balance: Balance, now: dt.datetime) -> None:
    """Try the configuration link at once; on failure the deferred task completes it."""
    try:
        link_client_configuration(client_id=client.pk, balance=balance, now=now)
    except BalanceError as e:
        logger.warning("linking client %s to its configuration failed, the worker will retry: %s", client.pk, e)
        return
    client.refresh_from_db(fields=["configuration_linked_at", "updated_at"])
