import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MemberRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEMBER_ROLE_UNSPECIFIED: _ClassVar[MemberRole]
    MEMBER_ROLE_OWNER: _ClassVar[MemberRole]
    MEMBER_ROLE_MEMBER: _ClassVar[MemberRole]

class LimitFrame(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIMIT_FRAME_UNSPECIFIED: _ClassVar[LimitFrame]
    LIMIT_FRAME_MONTH: _ClassVar[LimitFrame]

class SpendingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPENDING_STATUS_UNSPECIFIED: _ClassVar[SpendingStatus]
    SPENDING_STATUS_PENDING: _ClassVar[SpendingStatus]
    SPENDING_STATUS_HELD: _ClassVar[SpendingStatus]
    SPENDING_STATUS_CLEARED: _ClassVar[SpendingStatus]
    SPENDING_STATUS_CANCELLED: _ClassVar[SpendingStatus]
    SPENDING_STATUS_FAILED: _ClassVar[SpendingStatus]

class SpendingCancelReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPENDING_CANCEL_REASON_UNSPECIFIED: _ClassVar[SpendingCancelReason]
    SPENDING_CANCEL_REASON_REQUESTED: _ClassVar[SpendingCancelReason]
    SPENDING_CANCEL_REASON_EXPIRED: _ClassVar[SpendingCancelReason]

class SpendingRefundStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPENDING_REFUND_STATUS_UNSPECIFIED: _ClassVar[SpendingRefundStatus]
    SPENDING_REFUND_STATUS_PENDING: _ClassVar[SpendingRefundStatus]
    SPENDING_REFUND_STATUS_SUCCEEDED: _ClassVar[SpendingRefundStatus]
    SPENDING_REFUND_STATUS_FAILED: _ClassVar[SpendingRefundStatus]
MEMBER_ROLE_UNSPECIFIED: MemberRole
MEMBER_ROLE_OWNER: MemberRole
MEMBER_ROLE_MEMBER: MemberRole
LIMIT_FRAME_UNSPECIFIED: LimitFrame
LIMIT_FRAME_MONTH: LimitFrame
SPENDING_STATUS_UNSPECIFIED: SpendingStatus
SPENDING_STATUS_PENDING: SpendingStatus
SPENDING_STATUS_HELD: SpendingStatus
SPENDING_STATUS_CLEARED: SpendingStatus
SPENDING_STATUS_CANCELLED: SpendingStatus
SPENDING_STATUS_FAILED: SpendingStatus
SPENDING_CANCEL_REASON_UNSPECIFIED: SpendingCancelReason
SPENDING_CANCEL_REASON_REQUESTED: SpendingCancelReason
SPENDING_CANCEL_REASON_EXPIRED: SpendingCancelReason
SPENDING_REFUND_STATUS_UNSPECIFIED: SpendingRefundStatus
SPENDING_REFUND_STATUS_PENDING: SpendingRefundStatus
SPENDING_REFUND_STATUS_SUCCEEDED: SpendingRefundStatus
SPENDING_REFUND_STATUS_FAILED: SpendingRefundStatus

class MemberLimit(_message.Message):
    __slots__ = ("unlimited", "amount", "frame")
    UNLIMITED_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    unlimited: bool
    amount: str
    frame: LimitFrame
    def __init__(self, unlimited: _Optional[bool] = ..., amount: _Optional[str] = ..., frame: _Optional[_Union[LimitFrame, str]] = ...) -> None: ...

class FamilyMember(_message.Message):
    __slots__ = ("user_id", "phone", "role", "limit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    phone: str
    role: MemberRole
    limit: MemberLimit
    def __init__(self, user_id: _Optional[str] = ..., phone: _Optional[str] = ..., role: _Optional[_Union[MemberRole, str]] = ..., limit: _Optional[_Union[MemberLimit, _Mapping]] = ...) -> None: ...

class FamilyDetails(_message.Message):
    __slots__ = ("name", "color", "passport_account")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    color: str
    passport_account: bool
    def __init__(self, name: _Optional[str] = ..., color: _Optional[str] = ..., passport_account: _Optional[bool] = ...) -> None: ...

class FamilyPayment(_message.Message):
    __slots__ = ("payment_methods", "main_payment_method_id")
    PAYMENT_METHODS_FIELD_NUMBER: _ClassVar[int]
    MAIN_PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    payment_methods: _containers.RepeatedScalarFieldContainer[str]
    main_payment_method_id: str
    def __init__(self, payment_methods: _Optional[_Iterable[str]] = ..., main_payment_method_id: _Optional[str] = ...) -> None: ...

class Family(_message.Message):
    __slots__ = ("id", "owner", "members", "details", "payment", "revision", "has_specific_limit", "is_active", "accepted_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    HAS_SPECIFIC_LIMIT_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    owner: str
    members: _containers.RepeatedCompositeFieldContainer[FamilyMember]
    details: FamilyDetails
    payment: FamilyPayment
    revision: int
    has_specific_limit: bool
    is_active: bool
    accepted_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., owner: _Optional[str] = ..., members: _Optional[_Iterable[_Union[FamilyMember, _Mapping]]] = ..., details: _Optional[_Union[FamilyDetails, _Mapping]] = ..., payment: _Optional[_Union[FamilyPayment, _Mapping]] = ..., revision: _Optional[int] = ..., has_specific_limit: _Optional[bool] = ..., is_active: _Optional[bool] = ..., accepted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateFamilyRequest(_message.Message):
    __slots__ = ("workspace", "owner", "name", "color")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    owner: str
    name: str
    color: str
    def __init__(self, workspace: _Optional[str] = ..., owner: _Optional[str] = ..., name: _Optional[str] = ..., color: _Optional[str] = ...) -> None: ...

class GetFamilyRequest(_message.Message):
    __slots__ = ("workspace", "family_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    family_id: str
    def __init__(self, workspace: _Optional[str] = ..., family_id: _Optional[str] = ...) -> None: ...

class DeleteFamilyRequest(_message.Message):
    __slots__ = ("workspace", "family_id", "acting_user_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTING_USER_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    family_id: str
    acting_user_id: str
    def __init__(self, workspace: _Optional[str] = ..., family_id: _Optional[str] = ..., acting_user_id: _Optional[str] = ...) -> None: ...

class ListUserFamiliesRequest(_message.Message):
    __slots__ = ("workspace", "user_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    user_id: str
    def __init__(self, workspace: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class UserFamily(_message.Message):
    __slots__ = ("family", "member_role")
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ROLE_FIELD_NUMBER: _ClassVar[int]
    family: Family
    member_role: MemberRole
    def __init__(self, family: _Optional[_Union[Family, _Mapping]] = ..., member_role: _Optional[_Union[MemberRole, str]] = ...) -> None: ...

class ListUserFamiliesResponse(_message.Message):
    __slots__ = ("families",)
    FAMILIES_FIELD_NUMBER: _ClassVar[int]
    families: _containers.RepeatedCompositeFieldContainer[UserFamily]
    def __init__(self, families: _Optional[_Iterable[_Union[UserFamily, _Mapping]]] = ...) -> None: ...

class AddFamilyMemberRequest(_message.Message):
    __slots__ = ("workspace", "family_id", "acting_user_id", "user_id", "phone", "limit")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTING_USER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    family_id: str
    acting_user_id: str
    user_id: str
    phone: str
    limit: str
    def __init__(self, workspace: _Optional[str] = ..., family_id: _Optional[str] = ..., acting_user_id: _Optional[str] = ..., user_id: _Optional[str] = ..., phone: _Optional[str] = ..., limit: _Optional[str] = ...) -> None: ...

class RemoveFamilyMemberRequest(_message.Message):
    __slots__ = ("workspace", "family_id", "acting_user_id", "user_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTING_USER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    family_id: str
    acting_user_id: str
    user_id: str
    def __init__(self, workspace: _Optional[str] = ..., family_id: _Optional[str] = ..., acting_user_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class LeaveFamilyRequest(_message.Message):
    __slots__ = ("workspace", "family_id", "user_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    family_id: str
    user_id: str
    def __init__(self, workspace: _Optional[str] = ..., family_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class PutFamilyMemberLimitRequest(_message.Message):
    __slots__ = ("workspace", "family_id", "acting_user_id", "user_id", "amount", "frame", "unlimited", "revision")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTING_USER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    UNLIMITED_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    family_id: str
    acting_user_id: str
    user_id: str
    amount: str
    frame: LimitFrame
    unlimited: bool
    revision: int
    def __init__(self, workspace: _Optional[str] = ..., family_id: _Optional[str] = ..., acting_user_id: _Optional[str] = ..., user_id: _Optional[str] = ..., amount: _Optional[str] = ..., frame: _Optional[_Union[LimitFrame, str]] = ..., unlimited: _Optional[bool] = ..., revision: _Optional[int] = ...) -> None: ...

class PutFamilyPaymentMethodRequest(_message.Message):
    __slots__ = ("workspace", "family_id", "acting_user_id", "payment_method_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTING_USER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    family_id: str
    acting_user_id: str
    payment_method_id: str
    def __init__(self, workspace: _Optional[str] = ..., family_id: _Optional[str] = ..., acting_user_id: _Optional[str] = ..., payment_method_id: _Optional[str] = ...) -> None: ...

class CheckFamilyAvailableRequest(_message.Message):
    __slots__ = ("workspace", "family_id", "user_id", "amount")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    family_id: str
    user_id: str
    amount: str
    def __init__(self, workspace: _Optional[str] = ..., family_id: _Optional[str] = ..., user_id: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class CheckFamilyAvailableResponse(_message.Message):
    __slots__ = ("available", "limit", "usage", "remaining", "frame", "reset_at")
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    RESET_AT_FIELD_NUMBER: _ClassVar[int]
    available: bool
    limit: str
    usage: str
    remaining: str
    frame: LimitFrame
    reset_at: _timestamp_pb2.Timestamp
    def __init__(self, available: _Optional[bool] = ..., limit: _Optional[str] = ..., usage: _Optional[str] = ..., remaining: _Optional[str] = ..., frame: _Optional[_Union[LimitFrame, str]] = ..., reset_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FamilySpendingRefund(_message.Message):
    __slots__ = ("refund_id", "spending_id", "amount", "currency", "status", "failure_reason", "created_at")
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    SPENDING_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    refund_id: str
    spending_id: str
    amount: str
    currency: str
    status: SpendingRefundStatus
    failure_reason: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, refund_id: _Optional[str] = ..., spending_id: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., status: _Optional[_Union[SpendingRefundStatus, str]] = ..., failure_reason: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FamilySpending(_message.Message):
    __slots__ = ("spending_id", "family_id", "user_id", "amount", "currency", "status", "cleared_amount", "refunded_amount", "card_payment_id", "cancel_reason", "failure_reason", "hold_expires_at", "created_at", "updated_at", "refunds")
    SPENDING_ID_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CLEARED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CARD_PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    HOLD_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    spending_id: str
    family_id: str
    user_id: str
    amount: str
    currency: str
    status: SpendingStatus
    cleared_amount: str
    refunded_amount: str
    card_payment_id: str
    cancel_reason: SpendingCancelReason
    failure_reason: str
    hold_expires_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    refunds: _containers.RepeatedCompositeFieldContainer[FamilySpendingRefund]
    def __init__(self, spending_id: _Optional[str] = ..., family_id: _Optional[str] = ..., user_id: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., status: _Optional[_Union[SpendingStatus, str]] = ..., cleared_amount: _Optional[str] = ..., refunded_amount: _Optional[str] = ..., card_payment_id: _Optional[str] = ..., cancel_reason: _Optional[_Union[SpendingCancelReason, str]] = ..., failure_reason: _Optional[str] = ..., hold_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., refunds: _Optional[_Iterable[_Union[FamilySpendingRefund, _Mapping]]] = ...) -> None: ...

class CreateFamilySpendingRequest(_message.Message):
    __slots__ = ("workspace", "family_id", "spending_id", "user_id", "amount")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    SPENDING_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    family_id: str
    spending_id: str
    user_id: str
    amount: str
    def __init__(self, workspace: _Optional[str] = ..., family_id: _Optional[str] = ..., spending_id: _Optional[str] = ..., user_id: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class CreateFamilySpendingResponse(_message.Message):
    __slots__ = ("spending", "created")
    SPENDING_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    spending: FamilySpending
    created: bool
    def __init__(self, spending: _Optional[_Union[FamilySpending, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class FamilySpendingRequest(_message.Message):
    __slots__ = ("workspace", "family_id", "spending_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    SPENDING_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    family_id: str
    spending_id: str
    def __init__(self, workspace: _Optional[str] = ..., family_id: _Optional[str] = ..., spending_id: _Optional[str] = ...) -> None: ...

class ClearFamilySpendingRequest(_message.Message):
    __slots__ = ("workspace", "family_id", "spending_id", "amount")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    SPENDING_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    family_id: str
    spending_id: str
    amount: str
    def __init__(self, workspace: _Optional[str] = ..., family_id: _Optional[str] = ..., spending_id: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class RefundFamilySpendingRequest(_message.Message):
    __slots__ = ("workspace", "family_id", "spending_id", "refund_id", "amount")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    SPENDING_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    family_id: str
    spending_id: str
    refund_id: str
    amount: str
    def __init__(self, workspace: _Optional[str] = ..., family_id: _Optional[str] = ..., spending_id: _Optional[str] = ..., refund_id: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class RefundFamilySpendingResponse(_message.Message):
    __slots__ = ("refund", "created")
    REFUND_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    refund: FamilySpendingRefund
    created: bool
    def __init__(self, refund: _Optional[_Union[FamilySpendingRefund, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class ListUserPaymentMethodsRequest(_message.Message):
    __slots__ = ("workspace", "user_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    user_id: str
    def __init__(self, workspace: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class FamilyInfo(_message.Message):
    __slots__ = ("family_id", "usage", "limit", "frame")
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    family_id: str
    usage: str
    limit: str
    frame: LimitFrame
    def __init__(self, family_id: _Optional[str] = ..., usage: _Optional[str] = ..., limit: _Optional[str] = ..., frame: _Optional[_Union[LimitFrame, str]] = ...) -> None: ...

class PayerInfo(_message.Message):
    __slots__ = ("uid", "family_info")
    UID_FIELD_NUMBER: _ClassVar[int]
    FAMILY_INFO_FIELD_NUMBER: _ClassVar[int]
    uid: str
    family_info: FamilyInfo
    def __init__(self, uid: _Optional[str] = ..., family_info: _Optional[_Union[FamilyInfo, _Mapping]] = ...) -> None: ...

class PaymentMethod(_message.Message):
    __slots__ = ("id", "number", "payer_info")
    ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    PAYER_INFO_FIELD_NUMBER: _ClassVar[int]
    id: str
    number: str
    payer_info: PayerInfo
    def __init__(self, id: _Optional[str] = ..., number: _Optional[str] = ..., payer_info: _Optional[_Union[PayerInfo, _Mapping]] = ...) -> None: ...

class FamilyAccount(_message.Message):
    __slots__ = ("family_id", "name", "member_role", "passport_account")
    FAMILY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ROLE_FIELD_NUMBER: _ClassVar[int]
    PASSPORT_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    family_id: str
    name: str
    member_role: MemberRole
    passport_account: bool
    def __init__(self, family_id: _Optional[str] = ..., name: _Optional[str] = ..., member_role: _Optional[_Union[MemberRole, str]] = ..., passport_account: _Optional[bool] = ...) -> None: ...

class ListUserPaymentMethodsResponse(_message.Message):
    __slots__ = ("payment_methods", "family_accounts")
    PAYMENT_METHODS_FIELD_NUMBER: _ClassVar[int]
    FAMILY_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    payment_methods: _containers.RepeatedCompositeFieldContainer[PaymentMethod]
    family_accounts: _containers.RepeatedCompositeFieldContainer[FamilyAccount]
    def __init__(self, payment_methods: _Optional[_Iterable[_Union[PaymentMethod, _Mapping]]] = ..., family_accounts: _Optional[_Iterable[_Union[FamilyAccount, _Mapping]]] = ...) -> None: ...
