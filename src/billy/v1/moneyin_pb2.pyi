import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PayerType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYER_TYPE_UNSPECIFIED: _ClassVar[PayerType]
    PAYER_TYPE_LEGAL: _ClassVar[PayerType]
    PAYER_TYPE_INDIVIDUAL: _ClassVar[PayerType]

class PayerStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYER_STATUS_UNSPECIFIED: _ClassVar[PayerStatus]
    PAYER_STATUS_PENDING: _ClassVar[PayerStatus]
    PAYER_STATUS_ACTIVE: _ClassVar[PayerStatus]
    PAYER_STATUS_NEEDS_ATTENTION: _ClassVar[PayerStatus]

class PaymentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_TYPE_UNSPECIFIED: _ClassVar[PaymentType]
    PAYMENT_TYPE_PREPAY: _ClassVar[PaymentType]
    PAYMENT_TYPE_POSTPAY: _ClassVar[PaymentType]

class ContractStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTRACT_STATUS_UNSPECIFIED: _ClassVar[ContractStatus]
    CONTRACT_STATUS_PENDING: _ClassVar[ContractStatus]
    CONTRACT_STATUS_ACTIVE: _ClassVar[ContractStatus]
    CONTRACT_STATUS_NEEDS_ATTENTION: _ClassVar[ContractStatus]

class InvoiceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVOICE_KIND_UNSPECIFIED: _ClassVar[InvoiceKind]
    INVOICE_KIND_PREPAY: _ClassVar[InvoiceKind]
    INVOICE_KIND_CREDIT: _ClassVar[InvoiceKind]

class InvoiceStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVOICE_STATUS_UNSPECIFIED: _ClassVar[InvoiceStatus]
    INVOICE_STATUS_PENDING: _ClassVar[InvoiceStatus]
    INVOICE_STATUS_ISSUED: _ClassVar[InvoiceStatus]
    INVOICE_STATUS_PARTIALLY_PAID: _ClassVar[InvoiceStatus]
    INVOICE_STATUS_PAID: _ClassVar[InvoiceStatus]
    INVOICE_STATUS_NEEDS_ATTENTION: _ClassVar[InvoiceStatus]
PAYER_TYPE_UNSPECIFIED: PayerType
PAYER_TYPE_LEGAL: PayerType
PAYER_TYPE_INDIVIDUAL: PayerType
PAYER_STATUS_UNSPECIFIED: PayerStatus
PAYER_STATUS_PENDING: PayerStatus
PAYER_STATUS_ACTIVE: PayerStatus
PAYER_STATUS_NEEDS_ATTENTION: PayerStatus
PAYMENT_TYPE_UNSPECIFIED: PaymentType
PAYMENT_TYPE_PREPAY: PaymentType
PAYMENT_TYPE_POSTPAY: PaymentType
CONTRACT_STATUS_UNSPECIFIED: ContractStatus
CONTRACT_STATUS_PENDING: ContractStatus
CONTRACT_STATUS_ACTIVE: ContractStatus
CONTRACT_STATUS_NEEDS_ATTENTION: ContractStatus
INVOICE_KIND_UNSPECIFIED: InvoiceKind
INVOICE_KIND_PREPAY: InvoiceKind
INVOICE_KIND_CREDIT: InvoiceKind
INVOICE_STATUS_UNSPECIFIED: InvoiceStatus
INVOICE_STATUS_PENDING: InvoiceStatus
INVOICE_STATUS_ISSUED: InvoiceStatus
INVOICE_STATUS_PARTIALLY_PAID: InvoiceStatus
INVOICE_STATUS_PAID: InvoiceStatus
INVOICE_STATUS_NEEDS_ATTENTION: InvoiceStatus

class PayerFields(_message.Message):
    __slots__ = ("type", "name", "long_name", "inn", "kpp", "email", "phone", "legal_address", "postal_address", "bik", "bank_account")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LONG_NAME_FIELD_NUMBER: _ClassVar[int]
    INN_FIELD_NUMBER: _ClassVar[int]
    KPP_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    LEGAL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    POSTAL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    BIK_FIELD_NUMBER: _ClassVar[int]
    BANK_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    type: PayerType
    name: str
    long_name: str
    inn: str
    kpp: str
    email: str
    phone: str
    legal_address: str
    postal_address: str
    bik: str
    bank_account: str
    def __init__(self, type: _Optional[_Union[PayerType, str]] = ..., name: _Optional[str] = ..., long_name: _Optional[str] = ..., inn: _Optional[str] = ..., kpp: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., legal_address: _Optional[str] = ..., postal_address: _Optional[str] = ..., bik: _Optional[str] = ..., bank_account: _Optional[str] = ...) -> None: ...

class PutPayerRequest(_message.Message):
    __slots__ = ("workspace", "client", "payer_id", "payer")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    PAYER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYER_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    payer_id: str
    payer: PayerFields
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ..., payer_id: _Optional[str] = ..., payer: _Optional[_Union[PayerFields, _Mapping]] = ...) -> None: ...

class Payer(_message.Message):
    __slots__ = ("payer_id", "client", "fields", "status", "created_at", "updated_at")
    PAYER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    payer_id: str
    client: str
    fields: PayerFields
    status: PayerStatus
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, payer_id: _Optional[str] = ..., client: _Optional[str] = ..., fields: _Optional[_Union[PayerFields, _Mapping]] = ..., status: _Optional[_Union[PayerStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PutPayerResponse(_message.Message):
    __slots__ = ("payer", "created")
    PAYER_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    payer: Payer
    created: bool
    def __init__(self, payer: _Optional[_Union[Payer, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetPayerRequest(_message.Message):
    __slots__ = ("workspace", "client", "payer_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    PAYER_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    payer_id: str
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ..., payer_id: _Optional[str] = ...) -> None: ...

class ListPayersRequest(_message.Message):
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

class ListPayersResponse(_message.Message):
    __slots__ = ("payers", "next_cursor")
    PAYERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    payers: _containers.RepeatedCompositeFieldContainer[Payer]
    next_cursor: str
    def __init__(self, payers: _Optional[_Iterable[_Union[Payer, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class PutContractRequest(_message.Message):
    __slots__ = ("workspace", "client", "contract_id", "payer_id", "payment_type", "currency", "credit_limit", "payment_term_days", "start_date")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    PAYER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TERM_DAYS_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    contract_id: str
    payer_id: str
    payment_type: PaymentType
    currency: str
    credit_limit: str
    payment_term_days: int
    start_date: str
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ..., contract_id: _Optional[str] = ..., payer_id: _Optional[str] = ..., payment_type: _Optional[_Union[PaymentType, str]] = ..., currency: _Optional[str] = ..., credit_limit: _Optional[str] = ..., payment_term_days: _Optional[int] = ..., start_date: _Optional[str] = ...) -> None: ...

class Contract(_message.Message):
    __slots__ = ("contract_id", "client", "payer_id", "payment_type", "currency", "credit_limit", "payment_term_days", "start_date", "status", "number", "personal_account_number", "created_at", "updated_at")
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    PAYER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TERM_DAYS_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    PERSONAL_ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    contract_id: str
    client: str
    payer_id: str
    payment_type: PaymentType
    currency: str
    credit_limit: str
    payment_term_days: int
    start_date: str
    status: ContractStatus
    number: str
    personal_account_number: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, contract_id: _Optional[str] = ..., client: _Optional[str] = ..., payer_id: _Optional[str] = ..., payment_type: _Optional[_Union[PaymentType, str]] = ..., currency: _Optional[str] = ..., credit_limit: _Optional[str] = ..., payment_term_days: _Optional[int] = ..., start_date: _Optional[str] = ..., status: _Optional[_Union[ContractStatus, str]] = ..., number: _Optional[str] = ..., personal_account_number: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PutContractResponse(_message.Message):
    __slots__ = ("contract", "created")
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    contract: Contract
    created: bool
    def __init__(self, contract: _Optional[_Union[Contract, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetContractRequest(_message.Message):
    __slots__ = ("workspace", "client", "contract_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    contract_id: str
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ..., contract_id: _Optional[str] = ...) -> None: ...

class ListContractsRequest(_message.Message):
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

class ListContractsResponse(_message.Message):
    __slots__ = ("contracts", "next_cursor")
    CONTRACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    contracts: _containers.RepeatedCompositeFieldContainer[Contract]
    next_cursor: str
    def __init__(self, contracts: _Optional[_Iterable[_Union[Contract, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class CreateInvoiceRequest(_message.Message):
    __slots__ = ("workspace", "client", "invoice_id", "amount", "payer_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYER_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    invoice_id: str
    amount: str
    payer_id: str
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ..., invoice_id: _Optional[str] = ..., amount: _Optional[str] = ..., payer_id: _Optional[str] = ...) -> None: ...

class Invoice(_message.Message):
    __slots__ = ("invoice_id", "client", "kind", "number", "amount", "paid_amount", "currency", "status", "payment_url", "payer_id", "contract_id", "created_at", "updated_at")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAID_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_URL_FIELD_NUMBER: _ClassVar[int]
    PAYER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    client: str
    kind: InvoiceKind
    number: str
    amount: str
    paid_amount: str
    currency: str
    status: InvoiceStatus
    payment_url: str
    payer_id: str
    contract_id: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, invoice_id: _Optional[str] = ..., client: _Optional[str] = ..., kind: _Optional[_Union[InvoiceKind, str]] = ..., number: _Optional[str] = ..., amount: _Optional[str] = ..., paid_amount: _Optional[str] = ..., currency: _Optional[str] = ..., status: _Optional[_Union[InvoiceStatus, str]] = ..., payment_url: _Optional[str] = ..., payer_id: _Optional[str] = ..., contract_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateInvoiceResponse(_message.Message):
    __slots__ = ("invoice", "created")
    INVOICE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    invoice: Invoice
    created: bool
    def __init__(self, invoice: _Optional[_Union[Invoice, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetInvoiceRequest(_message.Message):
    __slots__ = ("workspace", "client", "invoice_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    invoice_id: str
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ..., invoice_id: _Optional[str] = ...) -> None: ...

class ListInvoicesRequest(_message.Message):
    __slots__ = ("workspace", "client", "kind", "status", "limit", "cursor")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    client: str
    kind: InvoiceKind
    status: InvoiceStatus
    limit: int
    cursor: str
    def __init__(self, workspace: _Optional[str] = ..., client: _Optional[str] = ..., kind: _Optional[_Union[InvoiceKind, str]] = ..., status: _Optional[_Union[InvoiceStatus, str]] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListInvoicesResponse(_message.Message):
    __slots__ = ("invoices", "next_cursor")
    INVOICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    invoices: _containers.RepeatedCompositeFieldContainer[Invoice]
    next_cursor: str
    def __init__(self, invoices: _Optional[_Iterable[_Union[Invoice, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...
