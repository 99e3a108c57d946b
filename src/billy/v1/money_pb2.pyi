import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreditTransferStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDIT_TRANSFER_STATUS_UNSPECIFIED: _ClassVar[CreditTransferStatus]
    CREDIT_TRANSFER_STATUS_PENDING: _ClassVar[CreditTransferStatus]
    CREDIT_TRANSFER_STATUS_SUCCEEDED: _ClassVar[CreditTransferStatus]
    CREDIT_TRANSFER_STATUS_FAILED: _ClassVar[CreditTransferStatus]
    CREDIT_TRANSFER_STATUS_NEEDS_ATTENTION: _ClassVar[CreditTransferStatus]

class ChargeStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHARGE_STATUS_UNSPECIFIED: _ClassVar[ChargeStatus]
    CHARGE_STATUS_HELD: _ClassVar[ChargeStatus]
    CHARGE_STATUS_COMPLETED: _ClassVar[ChargeStatus]
    CHARGE_STATUS_CANCELLED: _ClassVar[ChargeStatus]

class CancelReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CANCEL_REASON_UNSPECIFIED: _ClassVar[CancelReason]
    CANCEL_REASON_REQUESTED: _ClassVar[CancelReason]
    CANCEL_REASON_EXPIRED: _ClassVar[CancelReason]

class TransactionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSACTION_KIND_UNSPECIFIED: _ClassVar[TransactionKind]
    TRANSACTION_KIND_ADJUSTMENT: _ClassVar[TransactionKind]
    TRANSACTION_KIND_CHARGE: _ClassVar[TransactionKind]
    TRANSACTION_KIND_REFUND: _ClassVar[TransactionKind]
    TRANSACTION_KIND_CARD_PAYMENT: _ClassVar[TransactionKind]
    TRANSACTION_KIND_CARD_REFUND: _ClassVar[TransactionKind]
    TRANSACTION_KIND_FAMILY_SPENDING: _ClassVar[TransactionKind]
    TRANSACTION_KIND_FAMILY_REFUND: _ClassVar[TransactionKind]
    TRANSACTION_KIND_TOP_UP: _ClassVar[TransactionKind]
    TRANSACTION_KIND_CREDIT: _ClassVar[TransactionKind]
CREDIT_TRANSFER_STATUS_UNSPECIFIED: CreditTransferStatus
CREDIT_TRANSFER_STATUS_PENDING: CreditTransferStatus
CREDIT_TRANSFER_STATUS_SUCCEEDED: CreditTransferStatus
CREDIT_TRANSFER_STATUS_FAILED: CreditTransferStatus
CREDIT_TRANSFER_STATUS_NEEDS_ATTENTION: CreditTransferStatus
CHARGE_STATUS_UNSPECIFIED: ChargeStatus
CHARGE_STATUS_HELD: ChargeStatus
CHARGE_STATUS_COMPLETED: ChargeStatus
CHARGE_STATUS_CANCELLED: ChargeStatus
CANCEL_REASON_UNSPECIFIED: CancelReason
CANCEL_REASON_REQUESTED: CancelReason
CANCEL_REASON_EXPIRED: CancelReason
TRANSACTION_KIND_UNSPECIFIED: TransactionKind
TRANSACTION_KIND_ADJUSTMENT: TransactionKind
TRANSACTION_KIND_CHARGE: TransactionKind
TRANSACTION_KIND_REFUND: TransactionKind
TRANSACTION_KIND_CARD_PAYMENT: TransactionKind
TRANSACTION_KIND_CARD_REFUND: TransactionKind
TRANSACTION_KIND_FAMILY_SPENDING: TransactionKind
TRANSACTION_KIND_FAMILY_REFUND: TransactionKind
TRANSACTION_KIND_TOP_UP: TransactionKind
TRANSACTION_KIND_CREDIT: TransactionKind

class GetWalletRequest(_message.Message):
    __slots__ = ("workspace", "client")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ...) -> None: ...

class Wallet(_message.Message):
    __slots__ = ("currency", "balance", "held", "available", "credit_limit", "credit_used", "credit_available")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_USED_FIELD_NUMBER: _ClassVar[int]
    CREDIT_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    currency: str
    balance: str
    held: str
    available: str
    credit_limit: str
    credit_used: str
    credit_available: str
    def __init__(self, currency: _Optional[str] = ..., balance: _Optional[str] = ..., held: _Optional[str] = ..., available: _Optional[str] = ..., credit_limit: _Optional[str] = ..., credit_used: _Optional[str] = ..., credit_available: _Optional[str] = ...) -> None: ...

class CreateCreditTransferRequest(_message.Message):
    __slots__ = ("workspace", "client", "transfer_id", "amount")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    transfer_id: str
    amount: str
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ..., transfer_id: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class CreditTransfer(_message.Message):
    __slots__ = ("transfer_id", "client", "amount", "currency", "status", "created_at", "updated_at")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    transfer_id: str
    client: str
    amount: str
    currency: str
    status: CreditTransferStatus
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, transfer_id: _Optional[str] = ..., client: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., status: _Optional[_Union[CreditTransferStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateCreditTransferResponse(_message.Message):
    __slots__ = ("transfer", "created", "wallet")
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    WALLET_FIELD_NUMBER: _ClassVar[int]
    transfer: CreditTransfer
    created: bool
    wallet: Wallet
    def __init__(self, transfer: _Optional[_Union[CreditTransfer, _Mapping]] = ..., created: _Optional[bool] = ..., wallet: _Optional[_Union[Wallet, _Mapping]] = ...) -> None: ...

class ListWalletTransactionsRequest(_message.Message):
    __slots__ = ("workspace", "client", "limit", "cursor")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    limit: int
    cursor: str
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class WalletTransaction(_message.Message):
    __slots__ = ("id", "kind", "amount", "currency", "description", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    kind: TransactionKind
    amount: str
    currency: str
    description: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., kind: _Optional[_Union[TransactionKind, str]] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., description: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListWalletTransactionsResponse(_message.Message):
    __slots__ = ("transactions", "next_cursor")
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[WalletTransaction]
    next_cursor: str
    def __init__(self, transactions: _Optional[_Iterable[_Union[WalletTransaction, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class AdjustWalletRequest(_message.Message):
    __slots__ = ("workspace", "client", "adjustment_id", "amount", "reason")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    ADJUSTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    adjustment_id: str
    amount: str
    reason: str
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ..., adjustment_id: _Optional[str] = ..., amount: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AdjustWalletResponse(_message.Message):
    __slots__ = ("adjustment_id", "amount", "currency", "created", "wallet", "client", "reason", "created_by", "created_at")
    ADJUSTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    WALLET_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    adjustment_id: str
    amount: str
    currency: str
    created: bool
    wallet: Wallet
    client: str
    reason: str
    created_by: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, adjustment_id: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., created: _Optional[bool] = ..., wallet: _Optional[_Union[Wallet, _Mapping]] = ..., client: _Optional[str] = ..., reason: _Optional[str] = ..., created_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateChargeRequest(_message.Message):
    __slots__ = ("workspace", "client", "charge_id", "product", "amount", "currency", "hold", "hold_ttl_seconds", "description")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    CHARGE_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    HOLD_FIELD_NUMBER: _ClassVar[int]
    HOLD_TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    charge_id: str
    product: str
    amount: str
    currency: str
    hold: bool
    hold_ttl_seconds: int
    description: str
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ..., charge_id: _Optional[str] = ..., product: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., hold: _Optional[bool] = ..., hold_ttl_seconds: _Optional[int] = ..., description: _Optional[str] = ...) -> None: ...

class CreateChargeResponse(_message.Message):
    __slots__ = ("charge", "created")
    CHARGE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    charge: Charge
    created: bool
    def __init__(self, charge: _Optional[_Union[Charge, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class CreateChargesRequest(_message.Message):
    __slots__ = ("workspace", "charges")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CHARGES_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    charges: _containers.RepeatedCompositeFieldContainer[CreateChargeRequest]
    def __init__(self, workspace: _Optional[str] = ..., charges: _Optional[_Iterable[_Union[CreateChargeRequest, _Mapping]]] = ...) -> None: ...

class ChargeResult(_message.Message):
    __slots__ = ("status", "charge_id", "charge", "error_code", "error_message")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHARGE_ID_FIELD_NUMBER: _ClassVar[int]
    CHARGE_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    status: int
    charge_id: str
    charge: Charge
    error_code: str
    error_message: str
    def __init__(self, status: _Optional[int] = ..., charge_id: _Optional[str] = ..., charge: _Optional[_Union[Charge, _Mapping]] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class CreateChargesResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ChargeResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ChargeResult, _Mapping]]] = ...) -> None: ...

class GetChargeRequest(_message.Message):
    __slots__ = ("workspace", "charge_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CHARGE_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    charge_id: str
    def __init__(self, workspace: _Optional[str] = ..., charge_id: _Optional[str] = ...) -> None: ...

class ListChargesRequest(_message.Message):
    __slots__ = ("workspace", "client", "product", "status", "to", "limit", "cursor")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    product: str
    status: ChargeStatus
    to: _timestamp_pb2.Timestamp
    limit: int
    cursor: str
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ..., product: _Optional[str] = ..., status: _Optional[_Union[ChargeStatus, str]] = ..., to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ..., **kwargs) -> None: ...

class ListChargesResponse(_message.Message):
    __slots__ = ("charges", "next_cursor")
    CHARGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    charges: _containers.RepeatedCompositeFieldContainer[Charge]
    next_cursor: str
    def __init__(self, charges: _Optional[_Iterable[_Union[Charge, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ConfirmChargeRequest(_message.Message):
    __slots__ = ("workspace", "charge_id", "amount")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CHARGE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    charge_id: str
    amount: str
    def __init__(self, workspace: _Optional[str] = ..., charge_id: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class CancelChargeRequest(_message.Message):
    __slots__ = ("workspace", "charge_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CHARGE_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    charge_id: str
    def __init__(self, workspace: _Optional[str] = ..., charge_id: _Optional[str] = ...) -> None: ...

class RefundChargeRequest(_message.Message):
    __slots__ = ("workspace", "charge_id", "refund_id", "amount", "reason")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CHARGE_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    charge_id: str
    refund_id: str
    amount: str
    reason: str
    def __init__(self, workspace: _Optional[str] = ..., charge_id: _Optional[str] = ..., refund_id: _Optional[str] = ..., amount: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RefundChargeResponse(_message.Message):
    __slots__ = ("refund", "created")
    REFUND_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    refund: Refund
    created: bool
    def __init__(self, refund: _Optional[_Union[Refund, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class Refund(_message.Message):
    __slots__ = ("refund_id", "charge_id", "amount", "currency", "reason", "created_at")
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    CHARGE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    refund_id: str
    charge_id: str
    amount: str
    currency: str
    reason: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, refund_id: _Optional[str] = ..., charge_id: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., reason: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Charge(_message.Message):
    __slots__ = ("charge_id", "client", "product", "amount", "currency", "status", "hold", "captured_amount", "refunded_amount", "hold_expires_at", "cancel_reason", "description", "created_at", "updated_at", "refunds")
    CHARGE_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HOLD_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    HOLD_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    charge_id: str
    client: str
    product: str
    amount: str
    currency: str
    status: ChargeStatus
    hold: bool
    captured_amount: str
    refunded_amount: str
    hold_expires_at: _timestamp_pb2.Timestamp
    cancel_reason: CancelReason
    description: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    refunds: _containers.RepeatedCompositeFieldContainer[Refund]
    def __init__(self, charge_id: _Optional[str] = ..., client: _Optional[str] = ..., product: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., status: _Optional[_Union[ChargeStatus, str]] = ..., hold: _Optional[bool] = ..., captured_amount: _Optional[str] = ..., refunded_amount: _Optional[str] = ..., hold_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_reason: _Optional[_Union[CancelReason, str]] = ..., description: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., refunds: _Optional[_Iterable[_Union[Refund, _Mapping]]] = ...) -> None: ...
