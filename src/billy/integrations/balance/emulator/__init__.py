"""A Balance emulator: every `Balance2` method billy speaks, the invoice page, notifications to billy.

It keeps clients, payers, contracts with their personal accounts and wallet orders, payment
requests, invoices, credit deposits, consumption and acts; answers with Balance-like faults; keeps a
call log; and takes switchable faults. Its clock is billy's (`billy.core.clock`) moved forward by
`POST /_emulator/clock`; at each month boundary of that clock the month is closed by itself.

Modules: `state` (objects, clock, settings, faults, logs), `methods` (the XML-RPC methods), `books`
(money movements, consumption, the month close), `notifier` (NotifyOrder to billy, with retries),
`control` (the control API and its client), `server` (HTTP: XML-RPC, control API, invoice page).

The control API, JSON under `/_emulator/`:

- `GET  calls[?method=CreateClient]`, `clients`, `persons`, `contracts`, `personal_accounts`,
  `payment_requests`,
  `orders` (client id, paid, credit and consumed totals), `invoices` (with their page URL),
  `deposits`, `acts`, `notifications` (each NotifyOrder attempt and billy's answer), `settings`,
  `faults`, `clock`
- `POST faults` `{"kind", "count": 1, "seconds": 0, "method": null, "code": "INTERNAL_ERROR", "times": 2}`
  queue a fault for the next `count` calls (of `method`, or any):
    `unavailable` → HTTP 503, nothing done;  `error` → HTTP 500, nothing done;
    `fault` → an XML-RPC fault with `code` (e.g. `TOO_MANY_OPERATIONS`), nothing done;
    `delay` → wait `seconds`, then do the call;
    `commit_then_timeout` → do the call, then wait `seconds` before answering (the caller times out);
  or for the next `count` notifications: `lose_notification`, `repeat_notification` (`times` copies),
  `reorder_notification` (held until another notification has been sent)
- `DELETE faults`  clear queued faults
- `POST settings` `{"notify_url", "notify_urls": {ServiceID: url}, "notify_scale",
  "account_delay_seconds", "service_id"}`
- `POST clock` `{"advance_seconds"}`  move emulator time forward (month closes, account opening)
- `POST close_month` `{"month": "YYYY-MM"}`  form the month's acts and credit invoices now
- `POST invoices/<id>/pay` `{"amount"?}`  pay in part, or what is left, as the invoice page does
- `POST personal_accounts/<id>/transfer` `{"amount"}`  a bank transfer with no invoice
- `POST orders/<id>/consumption` `{"consumed_total"}`  change the consumed total behind billy's back
- `POST contracts/<id>/suspend` `{"suspended": true}`
- `POST reset`  forget everything; the clock and settings go back to how the emulator was started

With `state_file`, objects, the clock offset and queued notifications survive a restart (the
call log, the notification log, the faults and settings changed by the control API do not).
Invoice URLs keep the address they were made with: give a fixed `port` when the state is meant to
outlive the process.
"""

from __future__ import annotations

import threading
from pathlib import Path

from . import books, notifier
from .control import BalanceEmulatorControl
from .server import Server
from .state import DEFAULT_SERVICE_ID, FAULT_KINDS, BalanceState, Settings

__all__ = ["FAULT_KINDS", "BalanceEmulator", "BalanceEmulatorControl", "BalanceState", "Settings"]


class BalanceEmulator:
    """Run the emulator in background threads (tests) or in the foreground (`billy emulate balance`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: Path | None = None,
        *,
        notify_url: str | None = None,
        notify_urls: dict[int, str] | None = None,
        notify_scale: float = 1.0,
        account_delay_seconds: float = 0.0,
        service_id: int = DEFAULT_SERVICE_ID,
    ) -> None:
        settings = Settings(
            notify_url=notify_url,
            notify_urls={str(k): v for k, v in (notify_urls or {}).items()},
            notify_scale=notify_scale,
            account_delay_seconds=account_delay_seconds,
            service_id=service_id,
        )
        self.state = BalanceState(state_file, settings=settings)
        self._server = Server((host, port), self.state)
        self.state.base_url = self.base_url
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._background: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The XML-RPC endpoint to give billy as BALANCE_URL."""
        return self.base_url + "/xmlrpc"

    def start(self) -> BalanceEmulator:
        self._start_background()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="balance-emulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._start_background()
        try:
            self._server.serve_forever()
        finally:
            self._stop_background()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._stop_background()
        self.state.state_file.flush()

    def _tick(self) -> None:
        with self.state.lock:
            books.open_due_accounts(self.state)
            books.close_due_months(self.state)

    def _start_background(self) -> None:
        self._stopping.clear()
        self._background = threading.Thread(
            target=notifier.deliver_forever, args=(self.state, self._stopping, self._tick), daemon=True
        )
        self._background.start()

    def _stop_background(self) -> None:
        self._stopping.set()
        with self.state.wakeup:
            self.state.wakeup.notify_all()
        if self._background is not None:
            self._background.join(timeout=notifier.TIMEOUT_SECONDS * 2)
