"""A background writer of numbered canary items: the measuring stick of the RPO.

After a restore, the newest canary present in the restored table tells how much recent data survived:
the RPO is the time between the harmful change and that canary's write (writes after it were lost).
A writer stops at teardown, or at once (:meth:`CanaryWriter.halt`) when the run's stop alarm fires.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from dr_infra.drill.inject import put_item
from dr_infra.drill.oracle import CANARY_KIND, Oracle, Write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class CanaryWriter:
    """Writes ``canary-000001``, ``canary-000002``, ... every ``interval_s`` until stopped."""

    def __init__(self, client: DynamoDBClient, table: str, oracle: Oracle, interval_s: float) -> None:
        self.client = client
        self.table = table
        self.oracle = oracle
        self.interval_s = interval_s
        self.written: list[Write] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drdrill-canary", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        number = 0
        while not self._stop.is_set():
            number += 1
            item = self.oracle.items.canary(number, {"kind": {"S": CANARY_KIND}, "sequence": {"N": str(number)}})
            if self._stop.is_set():  # halted while the item was being built
                break
            try:
                self.written.append(put_item(self.client, self.table, self.oracle, item, canary=True))
            except Exception as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self._stop.wait(self.interval_s)

    @property
    def halted(self) -> bool:
        return self._stop.is_set()

    def halt(self) -> None:
        """Stop writing at once, without waiting for the thread (safe from any thread, e.g. the stop alarm's
        watcher): no write starts after this returns; one already in flight completes."""
        self._stop.set()

    def stop(self) -> None:
        self.halt()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
