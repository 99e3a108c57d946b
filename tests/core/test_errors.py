"""One table of error codes serves every transport."""

import grpc

import billy.clients.operations
import billy.clients.queries
import billy.workspaces.operations
import billy.workspaces.queries  # noqa: F401  (import the modules that define errors)
from billy.core.errors import ERROR_CODES, BillyError, code_for_http_status


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def test_every_error_class_has_a_code_in_the_table():
    codes = {cls.code for cls in all_subclasses(BillyError)}
    assert codes
    assert codes <= set(ERROR_CODES)


def test_status_mappings_are_consistent():
    for spec in ERROR_CODES.values():
        assert 400 <= spec.http_status < 600
        assert isinstance(spec.grpc_status, grpc.StatusCode)
        assert spec.grpc_status != grpc.StatusCode.OK


def test_bare_statuses_map_to_generic_codes():
    assert code_for_http_status(404) == "not_found"
    assert code_for_http_status(405) == "method_not_allowed"
    assert code_for_http_status(418) == "bad_request"
    assert code_for_http_status(504) == "internal_error"
