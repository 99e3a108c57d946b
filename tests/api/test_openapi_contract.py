"""Every answer the suite's HTTP API calls got, checked against the OpenAPI document.

Every process that serves the API during the run (the in-process test client and the `billy serve`
processes the tests start) appends its answers to the contract log (billy.api.http.contract_log).
This test runs last (tests/conftest.py moves it there) and walks every operation of the document:
each answer's status is documented for its operation, an error's code is listed for its status, a
Retry-After is there when the code carries one, and its body validates against the documented
schema. In a run of the whole suite every operation must have been answered with success at least
once, so no operation goes unchecked.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from billy.api.http.api import api
from billy.core.errors import ERROR_CODES

# Which answers' bodies are validated: every one of the first ALL_UNTIL of an (operation, status),
# then one in EVERY_NTH (the fault run alone makes tens of thousands of alike answers); a large body
# (a batch, a full page of events) costs a second or so, so only the first LARGE_UNTIL of those.
ALL_UNTIL = 200
EVERY_NTH = 25
LARGE_BODY = 100_000
LARGE_UNTIL = 20


def _validate(count: int, body: str) -> bool:
    if len(body) > LARGE_BODY and count >= LARGE_UNTIL:
        return False
    return count < ALL_UNTIL or count % EVERY_NTH == 0


def _log() -> Path:
    return Path(os.environ["BILLY_API_CONTRACT_LOG"])


def _records() -> list[dict[str, Any]]:
    """The log's records; a line that is not one (a process killed while writing) as {"unreadable": text}."""
    if not _log().exists():
        return []
    records = []
    # Records end at "\n" only: str.splitlines would also cut at U+0085, U+2028 and the like, which
    # JSON leaves as they are inside an echoed string.
    for line in _log().read_text().split("\n"):
        if not line:
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            records.append({"unreadable": line[:200]})
    return records


def _documents() -> list[dict[str, Any]]:
    return [api.get_openapi_schema(), api.get_callbacks_schema()]


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    # The schema's `#/components/...` references resolve against its own root: put them there.
    return Draft202012Validator({**schema, "components": document["components"]}, format_checker=FormatChecker())


def check_answers(records: list[dict[str, Any]]) -> tuple[list[str], Counter]:
    """Problems found, and how many answers each (method, path) got with success."""
    operations: dict[tuple[str, str], tuple[dict, dict]] = {}
    for document in _documents():
        for path, item in document["paths"].items():
            for method, spec in item.items():
                operations[(method, path)] = (document, spec)
    problems: list[str] = []
    successes: Counter = Counter()
    seen: Counter = Counter()
    validators: dict[tuple[str, str, str], Draft202012Validator] = {}
    for record in records:
        if "unreadable" in record:
            problems.append(f"a line of the log is not a record: {record['unreadable']!r}")
            continue
        key = (record["method"], record["path"])
        if key not in operations:
            # Not an operation (the documents themselves, the docs page, a path the API lacks, or
            # a method the path does not take: 405 with Allow).
            if record["path"].endswith(("/openapi.json", "/docs")) or record["status"] in (404, 405):
                continue
            problems.append(f"{key}: answered {record['status']} but is not in the OpenAPI document")
            continue
        document, spec = operations[key]
        name = spec["operationId"]
        status = str(record["status"])
        answer = spec["responses"].get(status)
        if answer is None:
            problems.append(f"{name}: status {status} is not documented (documented: {sorted(spec['responses'])})")
            continue
        if record["status"] < 300:
            successes[key] += 1
        if not record["request_id"]:
            problems.append(f"{name} {status}: no Request-Id header")
        content = answer.get("content")
        if not content:
            if record["body"]:
                problems.append(f"{name} {status}: a body where the document says none")
            continue
        media_type = (record["content_type"] or "").split(";")[0].strip()
        if media_type not in content:
            problems.append(f"{name} {status}: Content-Type {record['content_type']!r}")
            continue
        if media_type != "application/json":
            continue  # a documented body of another type (Balance's XML-RPC answer): its type is what is checked
        if record["body"] is None:
            continue  # over the log's size limit
        try:
            body = json.loads(record["body"])
        except json.JSONDecodeError:
            problems.append(f"{name} {status}: the body is not JSON: {record['body'][:100]!r}")
            continue
        codes = answer.get("x-billy-error-codes")
        if codes is not None:
            code = body.get("error", {}).get("code") if isinstance(body, dict) else None
            if code not in codes:
                problems.append(f"{name} {status}: code {code!r} is not listed for this status ({codes})")
            if code in ERROR_CODES and ERROR_CODES[code].retry_after and record["retry_after"] is None:
                problems.append(f"{name} {status} {code}: no Retry-After")
        seen[(name, status)] += 1
        if not _validate(seen[(name, status)] - 1, record["body"]):
            continue
        vkey = (record["method"], record["path"], status)
        if vkey not in validators:
            validators[vkey] = _validator(document, content["application/json"]["schema"])
        for error in validators[vkey].iter_errors(body):
            where = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"{name} {status}: {where or 'body'}: {error.message[:300]}")
    return problems, successes


def _whole_suite(config: pytest.Config) -> bool:
    tests = Path(config.rootpath, "tests").resolve()
    given = [Path(config.rootpath, a.split("::")[0]).resolve() for a in config.args] or [tests]
    narrowed = config.option.keyword or config.option.markexpr or config.option.deselect or config.option.ignore
    return tests in given and not narrowed


@pytest.mark.runs_last
def test_every_answer_matches_the_openapi_document(request):
    records = _records()
    problems, successes = check_answers(records)
    unique = sorted(set(problems))
    assert not unique, f"{len(unique)} kinds of answers differ from the OpenAPI document:\n" + "\n".join(unique[:40])
    if _whole_suite(request.config):
        product = api.get_openapi_schema()
        unanswered = sorted(
            spec["operationId"]
            for path, item in product["paths"].items()
            for method, spec in item.items()
            if not successes[(method, path)]
        )
        assert not unanswered, f"operations the suite never got a success from: {unanswered}"


def _error(code: str) -> str:
    return json.dumps({"error": {"code": code, "message": "", "details": {}}})


def test_the_check_finds_what_differs():
    """The check itself: an undocumented status, an unlisted code, a body off its schema."""
    ok = {
        "method": "get",
        "path": "/api/v1/workspaces/{workspace}/clients/{service_client_id}/wallet",
        "content_type": "application/json; charset=utf-8",
        "retry_after": None,
        "request_id": "r-1",
    }
    wallet = {
        "currency": "RUB",
        "balance": "1.00",
        "held": "0.00",
        "available": "1.00",
        "credit_limit": "0.00",
        "credit_used": "0.00",
        "credit_available": "0.00",
    }
    problems, successes = check_answers([{**ok, "status": 200, "body": json.dumps(wallet)}])
    assert problems == [] and sum(successes.values()) == 1
    bad = [
        {**ok, "status": 418, "body": "{}"},
        {**ok, "status": 404, "body": _error("charge_not_found")},
        {**ok, "status": 200, "body": json.dumps({**wallet, "balance": "1.5"})},
        {**ok, "status": 200, "body": json.dumps(wallet), "request_id": None},
    ]
    problems, _ = check_answers(bad)
    assert len(problems) == 4, problems
    assert any("418 is not documented" in p for p in problems)
    assert any("'charge_not_found' is not listed" in p for p in problems)
    assert any("balance" in p and "does not match" in p for p in problems)
    assert any("no Request-Id" in p for p in problems)


def test_answers_were_logged_by_every_process(live_billy):
    """The log gathers the answers of the `billy serve` processes too, not only this one's."""
    import httpx

    before = len(_records())
    httpx.get(f"{live_billy.url}/api/v1/workspaces/nowhere/plans", timeout=30)
    after = _records()[before:]
    assert any(r["path"] == "/api/v1/workspaces/{workspace}/plans" and r["status"] == 401 for r in after), after
