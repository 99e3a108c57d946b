import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListActsRequest(_message.Message):
    __slots__ = ("workspace", "client", "date_from", "date_to")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    DATE_FROM_FIELD_NUMBER: _ClassVar[int]
    DATE_TO_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    date_from: str
    date_to: str
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ..., date_from: _Optional[str] = ..., date_to: _Optional[str] = ...) -> None: ...

class Act(_message.Message):
    __slots__ = ("act_id", "number", "act_date", "amount", "vat", "currency", "contract_number", "order_id")
    ACT_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    ACT_DATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    VAT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    act_id: int
    number: str
    act_date: str
    amount: str
    vat: str
    currency: str
    contract_number: int
    order_id: int
    def __init__(self, act_id: _Optional[int] = ..., number: _Optional[str] = ..., act_date: _Optional[str] = ..., amount: _Optional[str] = ..., vat: _Optional[str] = ..., currency: _Optional[str] = ..., contract_number: _Optional[int] = ..., order_id: _Optional[int] = ...) -> None: ...

class ListActsResponse(_message.Message):
    __slots__ = ("acts",)
    ACTS_FIELD_NUMBER: _ClassVar[int]
    acts: _containers.RepeatedCompositeFieldContainer[Act]
    def __init__(self, acts: _Optional[_Iterable[_Union[Act, _Mapping]]] = ...) -> None: ...

class GetReconciliationRequest(_message.Message):
    __slots__ = ("workspace", "month", "limit", "cursor")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    month: str
    limit: int
    cursor: str
    def __init__(self, workspace: _Optional[str] = ..., month: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class Difference(_message.Message):
    __slots__ = ("reason", "amount")
    REASON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    reason: str
    amount: str
    def __init__(self, reason: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class ReconciliationLine(_message.Message):
    __slots__ = ("client", "order_id", "ledger", "reported", "act", "balance_consumed_total", "reported_total", "differences")
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    LEDGER_FIELD_NUMBER: _ClassVar[int]
    REPORTED_FIELD_NUMBER: _ClassVar[int]
    ACT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_CONSUMED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    REPORTED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCES_FIELD_NUMBER: _ClassVar[int]
    client: str
    order_id: int
    ledger: str
    reported: str
    act: str
    balance_consumed_total: str
    reported_total: str
    differences: _containers.RepeatedCompositeFieldContainer[Difference]
    def __init__(self, client: _Optional[str] = ..., order_id: _Optional[int] = ..., ledger: _Optional[str] = ..., reported: _Optional[str] = ..., act: _Optional[str] = ..., balance_consumed_total: _Optional[str] = ..., reported_total: _Optional[str] = ..., differences: _Optional[_Iterable[_Union[Difference, _Mapping]]] = ...) -> None: ...

class Reconciliation(_message.Message):
    __slots__ = ("month", "currency", "clients", "mismatches", "ledger_total", "reported_total", "act_total", "reconciled_at", "lines", "next_cursor")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    LEDGER_TOTAL_FIELD_NUMBER: _ClassVar[int]
    REPORTED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ACT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    RECONCILED_AT_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    month: str
    currency: str
    clients: int
    mismatches: int
    ledger_total: str
    reported_total: str
    act_total: str
    reconciled_at: _timestamp_pb2.Timestamp
    lines: _containers.RepeatedCompositeFieldContainer[ReconciliationLine]
    next_cursor: str
    def __init__(self, month: _Optional[str] = ..., currency: _Optional[str] = ..., clients: _Optional[int] = ..., mismatches: _Optional[int] = ..., ledger_total: _Optional[str] = ..., reported_total: _Optional[str] = ..., act_total: _Optional[str] = ..., reconciled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[ReconciliationLine, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...
