"""The README's Python reader, as given, reads what the relay published: every event once, in feed
order; called again, it goes on where it stopped (the stream keeps the durable consumer's place)."""

from __future__ import annotations

import asyncio
import re

from tests.conftest import ROOT, wait_for
from tests.relay.conftest import NATS_URL, write_events
from tests.relay.test_publishing import relay_until_done


def readme_reader():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("With Python ([nats-py]") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # the documented snippet, as a reader would paste it
    return namespace["read_events"]


def test_the_readme_reader_reads_every_event_once_in_order_and_resumes(workspace, broker, target):
    read_events = readme_reader()
    write_events(workspace.pk, 150)
    relay_until_done(broker, target, 150)
    seen: list[tuple[str, str, int]] = []

    def handle(event_id, subject, event):
        seen.append((event_id, subject, event["n"]))

    def read_until(count: int) -> None:
        """Call it again until `count` events came (on a busy machine a fetch may end before the
        stream answers: "none left for now"); each call goes on where the last one stopped."""
        wait_for(lambda: read() or len(seen) >= count, timeout=120)

    def read() -> None:
        asyncio.run(
            read_events(
                url=NATS_URL,
                stream=target.stream,
                subjects=f"{target.subject_prefix}.c2b.>",
                consumer="accounting",
                handle=handle,
            )
        )

    read_until(150)
    first = list(seen)
    write_events(workspace.pk, 20)
    relay_until_done(broker, target, 170)
    read_until(170)

    assert [n for _, _, n in first] == list(range(1, 151))
    assert [n for _, _, n in seen[150:]] == list(range(1, 21))
    assert {subject for _, subject, _ in seen} == {f"{target.subject_prefix}.c2b.test.event"}
    assert len({event_id for event_id, _, _ in seen}) == 170
