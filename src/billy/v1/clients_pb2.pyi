import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClientStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLIENT_STATUS_UNSPECIFIED: _ClassVar[ClientStatus]
    CLIENT_STATUS_PENDING: _ClassVar[ClientStatus]
    CLIENT_STATUS_ACTIVE: _ClassVar[ClientStatus]
    CLIENT_STATUS_NEEDS_ATTENTION: _ClassVar[ClientStatus]
CLIENT_STATUS_UNSPECIFIED: ClientStatus
CLIENT_STATUS_PENDING: ClientStatus
CLIENT_STATUS_ACTIVE: ClientStatus
CLIENT_STATUS_NEEDS_ATTENTION: ClientStatus

class CreateOrUpdateClientRequest(_message.Message):
    __slots__ = ("workspace", "service_client_id", "name", "email", "phone")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    service_client_id: str
    name: str
    email: str
    phone: str
    def __init__(self, workspace: _Optional[str] = ..., service_client_id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ...) -> None: ...

class CreateOrUpdateClientResponse(_message.Message):
    __slots__ = ("client", "created")
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    client: Client
    created: bool
    def __init__(self, client: _Optional[_Union[Client, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetClientRequest(_message.Message):
    __slots__ = ("workspace", "service_client_id")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    service_client_id: str
    def __init__(self, workspace: _Optional[str] = ..., service_client_id: _Optional[str] = ...) -> None: ...

class Client(_message.Message):
    __slots__ = ("workspace", "service_client_id", "name", "email", "phone", "status", "created_at", "updated_at")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    service_client_id: str
    name: str
    email: str
    phone: str
    status: ClientStatus
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, workspace: _Optional[str] = ..., service_client_id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., status: _Optional[_Union[ClientStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
