"""Only the ledger's writer (`billy.ledger.postings`) writes the ledger tables.

Every module of `src/billy` is parsed: SQL strings that insert into, update, delete from or
truncate `ledger_account`, `ledger_transaction` or `ledger_entry`, and ORM writes through the
`Account`, `Entry` and `LedgerTransaction` models (their constructors, `objects....create()`,
`.update()`, `.delete()`, `bulk_*`, `.save()` on them), are allowed there and nowhere else.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import billy

SRC = Path(billy.__file__).parent
WRITER = SRC / "ledger" / "postings.py"
LEDGER_MODELS = {"Account", "Entry", "LedgerTransaction"}
WRITE_METHODS = {"create", "bulk_create", "update", "bulk_update", "update_or_create", "get_or_create", "delete"}
SQL_WRITE = re.compile(
    r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(\s+TABLE)?)\s+(ONLY\s+)?ledger_(account|transaction|entry)\b",
    re.IGNORECASE,
)


def _root_name(node: ast.AST) -> str | None:
    """The name a chain like `Account.objects.filter(...).update` starts from."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def ledger_writes(source: str) -> list[str]:
    """Each write to a ledger table in the source, as `line: what`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_WRITE.search(node.value):
            found.append(f"{node.lineno}: SQL {SQL_WRITE.search(node.value).group(0)!r}")
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if SQL_WRITE.search(text):
                found.append(f"{node.lineno}: SQL {SQL_WRITE.search(text).group(0)!r}")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in LEDGER_MODELS:
                found.append(f"{node.lineno}: {func.id}(...)")
            elif (
                isinstance(func, ast.Attribute)
                and (func.attr in WRITE_METHODS or func.attr == "save")
                and _root_name(func.value) in LEDGER_MODELS
            ):
                found.append(f"{node.lineno}: {_root_name(func.value)}...{func.attr}()")
    return found


def test_only_the_ledger_writer_writes_ledger_tables():
    offenders = {
        str(path.relative_to(SRC)): writes
        for path in sorted(SRC.rglob("*.py"))
        if path != WRITER and "migrations" not in path.parts
        for writes in [ledger_writes(path.read_text())]
        if writes
    }

    assert offenders == {}


def test_the_writer_itself_is_seen_writing():
    assert ledger_writes(WRITER.read_text())


def test_writes_anywhere_are_recognised():
    source = '''
from billy.ledger.models import Account, Entry, LedgerTransaction
cursor.execute("UPDATE ledger_account SET balance = 0")
cursor.execute(f"""insert into ledger_entry (amount) values ({x})""")
Account.objects.filter(pk=1).update(balance=0)
LedgerTransaction.objects.create(kind="CHARGE")
Entry(amount=1).save()
Account.objects.bulk_create([])
'''

    assert sorted({int(w.split(":")[0]) for w in ledger_writes(source)}) == [3, 4, 5, 6, 7, 8]


def test_reads_are_not_writes():
    source = """
cursor.execute("SELECT balance FROM ledger_account WHERE id = %s FOR UPDATE")
Account.objects.filter(client=client).first()
Entry.objects.filter(account__client=client).order_by("-id")
"""

    assert ledger_writes(source) == []
