import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubscriptionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBSCRIPTION_STATUS_UNSPECIFIED: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_PENDING: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_ACTIVE: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_PAST_DUE: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_CANCELED: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_EXPIRED: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_REFUNDED: _ClassVar[SubscriptionStatus]

class SubscriptionPaymentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBSCRIPTION_PAYMENT_STATUS_UNSPECIFIED: _ClassVar[SubscriptionPaymentStatus]
    SUBSCRIPTION_PAYMENT_STATUS_NEW: _ClassVar[SubscriptionPaymentStatus]
    SUBSCRIPTION_PAYMENT_STATUS_PENDING: _ClassVar[SubscriptionPaymentStatus]
    SUBSCRIPTION_PAYMENT_STATUS_SUCCEEDED: _ClassVar[SubscriptionPaymentStatus]
    SUBSCRIPTION_PAYMENT_STATUS_FAILED: _ClassVar[SubscriptionPaymentStatus]

class SubscriptionRefundStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBSCRIPTION_REFUND_STATUS_UNSPECIFIED: _ClassVar[SubscriptionRefundStatus]
    SUBSCRIPTION_REFUND_STATUS_PENDING: _ClassVar[SubscriptionRefundStatus]
    SUBSCRIPTION_REFUND_STATUS_SUCCEEDED: _ClassVar[SubscriptionRefundStatus]
    SUBSCRIPTION_REFUND_STATUS_FAILED: _ClassVar[SubscriptionRefundStatus]

class PlanPeriod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLAN_PERIOD_UNSPECIFIED: _ClassVar[PlanPeriod]
    PLAN_PERIOD_MONTH: _ClassVar[PlanPeriod]
    PLAN_PERIOD_YEAR: _ClassVar[PlanPeriod]

class RefundPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFUND_POLICY_UNSPECIFIED: _ClassVar[RefundPolicy]
    REFUND_POLICY_FULL: _ClassVar[RefundPolicy]
    REFUND_POLICY_PRORATED: _ClassVar[RefundPolicy]
SUBSCRIPTION_STATUS_UNSPECIFIED: SubscriptionStatus
SUBSCRIPTION_STATUS_PENDING: SubscriptionStatus
SUBSCRIPTION_STATUS_ACTIVE: SubscriptionStatus
SUBSCRIPTION_STATUS_PAST_DUE: SubscriptionStatus
SUBSCRIPTION_STATUS_CANCELED: SubscriptionStatus
SUBSCRIPTION_STATUS_EXPIRED: SubscriptionStatus
SUBSCRIPTION_STATUS_REFUNDED: SubscriptionStatus
SUBSCRIPTION_PAYMENT_STATUS_UNSPECIFIED: SubscriptionPaymentStatus
SUBSCRIPTION_PAYMENT_STATUS_NEW: SubscriptionPaymentStatus
SUBSCRIPTION_PAYMENT_STATUS_PENDING: SubscriptionPaymentStatus
SUBSCRIPTION_PAYMENT_STATUS_SUCCEEDED: SubscriptionPaymentStatus
SUBSCRIPTION_PAYMENT_STATUS_FAILED: SubscriptionPaymentStatus
SUBSCRIPTION_REFUND_STATUS_UNSPECIFIED: SubscriptionRefundStatus
SUBSCRIPTION_REFUND_STATUS_PENDING: SubscriptionRefundStatus
SUBSCRIPTION_REFUND_STATUS_SUCCEEDED: SubscriptionRefundStatus
SUBSCRIPTION_REFUND_STATUS_FAILED: SubscriptionRefundStatus
PLAN_PERIOD_UNSPECIFIED: PlanPeriod
PLAN_PERIOD_MONTH: PlanPeriod
PLAN_PERIOD_YEAR: PlanPeriod
REFUND_POLICY_UNSPECIFIED: RefundPolicy
REFUND_POLICY_FULL: RefundPolicy
REFUND_POLICY_PRORATED: RefundPolicy

class SubscribeRequest(_message.Message):
    __slots__ = ("workspace", "user_id", "plan", "return_url")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    user_id: str
    plan: str
    return_url: str
    def __init__(self, workspace: _Optional[str] = ..., user_id: _Optional[str] = ..., plan: _Optional[str] = ..., return_url: _Optional[str] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("subscription", "created")
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    created: bool
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetSubscriptionRequest(_message.Message):
    __slots__ = ("workspace", "subscription_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    subscription_id: str
    def __init__(self, workspace: _Optional[str] = ..., subscription_id: _Optional[str] = ...) -> None: ...

class ListUserSubscriptionsRequest(_message.Message):
    __slots__ = ("workspace", "user_id", "limit", "cursor")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    user_id: str
    limit: int
    cursor: str
    def __init__(self, workspace: _Optional[str] = ..., user_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListUserSubscriptionsResponse(_message.Message):
    __slots__ = ("subscriptions", "next_cursor")
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[Subscription]
    next_cursor: str
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[Subscription, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class RefundSubscriptionRequest(_message.Message):
    __slots__ = ("workspace", "subscription_id", "reason")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    subscription_id: str
    reason: str
    def __init__(self, workspace: _Optional[str] = ..., subscription_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RefundSubscriptionResponse(_message.Message):
    __slots__ = ("refund", "created")
    REFUND_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    refund: SubscriptionRefund
    created: bool
    def __init__(self, refund: _Optional[_Union[SubscriptionRefund, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class CancelSubscriptionRequest(_message.Message):
    __slots__ = ("workspace", "subscription_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    subscription_id: str
    def __init__(self, workspace: _Optional[str] = ..., subscription_id: _Optional[str] = ...) -> None: ...

class ResumeSubscriptionRequest(_message.Message):
    __slots__ = ("workspace", "subscription_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    subscription_id: str
    def __init__(self, workspace: _Optional[str] = ..., subscription_id: _Optional[str] = ...) -> None: ...

class Subscription(_message.Message):
    __slots__ = ("id", "status", "plan", "user_id", "period_start", "period_end", "activated_at", "ended_at", "created_at", "renews", "next_renewal_at", "card_last4", "card_saved", "period_number", "renewal_failures", "payment", "payments", "refunds")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    ACTIVATED_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    RENEWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_RENEWAL_AT_FIELD_NUMBER: _ClassVar[int]
    CARD_LAST4_FIELD_NUMBER: _ClassVar[int]
    CARD_SAVED_FIELD_NUMBER: _ClassVar[int]
    PERIOD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    RENEWAL_FAILURES_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: SubscriptionStatus
    plan: str
    user_id: str
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    activated_at: _timestamp_pb2.Timestamp
    ended_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    renews: bool
    next_renewal_at: _timestamp_pb2.Timestamp
    card_last4: str
    card_saved: bool
    period_number: int
    renewal_failures: int
    payment: SubscriptionPayment
    payments: _containers.RepeatedCompositeFieldContainer[SubscriptionPayment]
    refunds: _containers.RepeatedCompositeFieldContainer[SubscriptionRefund]
    def __init__(self, id: _Optional[str] = ..., status: _Optional[_Union[SubscriptionStatus, str]] = ..., plan: _Optional[str] = ..., user_id: _Optional[str] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., activated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., renews: _Optional[bool] = ..., next_renewal_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., card_last4: _Optional[str] = ..., card_saved: _Optional[bool] = ..., period_number: _Optional[int] = ..., renewal_failures: _Optional[int] = ..., payment: _Optional[_Union[SubscriptionPayment, _Mapping]] = ..., payments: _Optional[_Iterable[_Union[SubscriptionPayment, _Mapping]]] = ..., refunds: _Optional[_Iterable[_Union[SubscriptionRefund, _Mapping]]] = ...) -> None: ...

class SubscriptionPayment(_message.Message):
    __slots__ = ("payment_id", "period", "status", "amount", "currency", "confirmation_url", "provider_payment_id", "failure_reason", "created_at", "succeeded_at")
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CONFIRMATION_URL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_AT_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    period: int
    status: SubscriptionPaymentStatus
    amount: str
    currency: str
    confirmation_url: str
    provider_payment_id: str
    failure_reason: str
    created_at: _timestamp_pb2.Timestamp
    succeeded_at: _timestamp_pb2.Timestamp
    def __init__(self, payment_id: _Optional[str] = ..., period: _Optional[int] = ..., status: _Optional[_Union[SubscriptionPaymentStatus, str]] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., confirmation_url: _Optional[str] = ..., provider_payment_id: _Optional[str] = ..., failure_reason: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., succeeded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SubscriptionRefund(_message.Message):
    __slots__ = ("refund_id", "subscription_id", "status", "amount", "currency", "reason", "failure_reason", "created_at", "succeeded_at")
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_AT_FIELD_NUMBER: _ClassVar[int]
    refund_id: str
    subscription_id: str
    status: SubscriptionRefundStatus
    amount: str
    currency: str
    reason: str
    failure_reason: str
    created_at: _timestamp_pb2.Timestamp
    succeeded_at: _timestamp_pb2.Timestamp
    def __init__(self, refund_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., status: _Optional[_Union[SubscriptionRefundStatus, str]] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., reason: _Optional[str] = ..., failure_reason: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., succeeded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListPlansRequest(_message.Message):
    __slots__ = ("workspace",)
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    def __init__(self, workspace: _Optional[str] = ...) -> None: ...

class Plan(_message.Message):
    __slots__ = ("code", "title", "price", "currency", "period", "refund_policy", "refund_days")
    CODE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    REFUND_POLICY_FIELD_NUMBER: _ClassVar[int]
    REFUND_DAYS_FIELD_NUMBER: _ClassVar[int]
    code: str
    title: str
    price: str
    currency: str
    period: PlanPeriod
    refund_policy: RefundPolicy
    refund_days: int
    def __init__(self, code: _Optional[str] = ..., title: _Optional[str] = ..., price: _Optional[str] = ..., currency: _Optional[str] = ..., period: _Optional[_Union[PlanPeriod, str]] = ..., refund_policy: _Optional[_Union[RefundPolicy, str]] = ..., refund_days: _Optional[int] = ...) -> None: ...

class ListPlansResponse(_message.Message):
    __slots__ = ("plans",)
    PLANS_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[Plan]
    def __init__(self, plans: _Optional[_Iterable[_Union[Plan, _Mapping]]] = ...) -> None: ...
