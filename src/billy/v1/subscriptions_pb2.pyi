from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
PLAN_PERIOD_UNSPECIFIED: PlanPeriod
PLAN_PERIOD_MONTH: PlanPeriod
PLAN_PERIOD_YEAR: PlanPeriod
REFUND_POLICY_UNSPECIFIED: RefundPolicy
REFUND_POLICY_FULL: RefundPolicy
REFUND_POLICY_PRORATED: RefundPolicy

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
