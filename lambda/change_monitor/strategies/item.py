"""item: repair items in place, within seconds, without a new table or a ledger.

For each key in the batch (records ordered by SequenceNumber as integers) the item
is put back as it was before the FIRST harmful change seen for that key (an INSERT
means it did not exist), but only if it is still as the LAST change of that key in
the batch left it. A newer legitimate write is therefore never overwritten: the
conditional write fails and the decision is ``repair_skipped_newer_write``, which
is not a failure. Repairs are idempotent through their conditions.

How the monitor recognises its own writes (so it never triggers itself in a loop)
------------------------------------------------------------------------------------
Every repair passes through a state carrying the reserved attribute
:data:`MARKER` (``drdrill:repair``) whose value is a token ``<action>/<sequence
number of the first harmful record>``, action ``restore`` or ``delete``. ANY
stream record whose NewImage or OldImage carries the marker is the monitor's own
write and is ignored (decision ``ignored``, reason ``own repair write``):

* revert a REMOVE (item absent now): ``PutItem(before-image + marker)`` with
  ``attribute_not_exists(<first key attribute>)`` (a key attribute exists iff the
  item exists), then ``UpdateItem REMOVE marker`` if ``marker = token``;
* revert a MODIFY (item present now): ``PutItem(before-image + marker)`` if the
  item still equals the last NewImage, then the same marker removal;
* revert an INSERT: ``UpdateItem SET marker = token`` if the item still equals the
  last NewImage, then ``DeleteItem`` if ``marker = token``.

Each step emits one stream record and each carries the marker in one of its
images, so none of them is ever treated as a user change. The final state is
exactly the before-image (no marker left). If the function dies between the two
steps, the next batch holding that key ends with an own write whose NewImage still
carries the marker: the monitor then finishes the step the token names (remove
the marker, or delete), conditional on the marker still being that token.

Limits (documented on purpose):

* "Equal to the last NewImage" is checked attribute by attribute in the write's
  condition (``#c0 = :c0 AND ...``). A condition cannot name attributes it does not
  know, so a write that only ADDS attributes is caught by a consistent GetItem just
  before the repair (the item has attributes the image lacks: newer write); one
  landing in the milliseconds between that read and the conditional write is not.
  Very large items may exceed DynamoDB's 4 KB expression limit; the repair then
  fails and is logged as ``failed``.
* A user write that copies an item while the marker is on it (a few milliseconds
  between the two steps) is taken for an own write.
* The stream must use NEW_AND_OLD_IMAGES; otherwise the record fails with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from change_monitor.log import Decision, error_text
from change_monitor.records import EventName, Image, StreamRecord, to_client_image
from change_monitor.strategies.base import LambdaContext, Outcome, Runtime

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

MARKER = "drdrill:repair"
"""Reserved attribute marking the monitor's own writes."""


def is_own_write(record: StreamRecord) -> bool:
    """True if the record was produced by a repair (either image carries the marker)."""
    return record.carries_attribute(MARKER)


def _key_id(record: StreamRecord) -> tuple[str, str]:
    return record.table.name, json.dumps(record.keys_raw, sort_keys=True)


class NewerWrite(Exception):
    """A repair condition failed: the item changed after the batch's last change."""


@dataclass(frozen=True)
class _Plan:
    """What to write for one key: target (None = absent) given the expected current state."""

    target: Image | None
    current: Image | None


class ItemStrategy:
    """In-place repair of each harmful key to its state before the first harmful change."""

    name = "item"

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @property
    def _ddb(self) -> DynamoDBClient:
        return self.runtime.clients.dynamodb

    def process(
        self,
        harmful: Sequence[StreamRecord],
        batch: Sequence[StreamRecord],
        context: LambdaContext | None,
    ) -> list[Outcome]:
        """Repair every key with harmful records; finish interrupted repairs of the others."""
        by_key: dict[tuple[str, str], list[StreamRecord]] = {}
        for record in sorted(batch, key=lambda r: r.sequence):
            by_key.setdefault(_key_id(record), []).append(record)
        harmful_ids = {id(r) for r in harmful}
        outcomes: list[Outcome] = []
        for records in by_key.values():
            key_harmful = [r for r in records if id(r) in harmful_ids]
            last = records[-1]
            if is_own_write(last):
                unfinished = self._finish_interrupted(last)
                if unfinished is not None:
                    outcomes.append(unfinished)
                outcomes.extend(
                    Outcome(
                        r,
                        Decision.REPAIRED,
                        {"reason": "already repaired: an own repair write follows in this batch"},
                    )
                    for r in key_harmful
                )
            elif key_harmful:
                outcomes.extend(self._repair_key(key_harmful, last))
        return outcomes

    def _repair_key(self, harmful: list[StreamRecord], last: StreamRecord) -> list[Outcome]:
        first = harmful[0]
        decision, fields = self._repair(first, last)
        outcomes = [Outcome(first, decision, fields)]
        for record in harmful[1:]:
            extra = dict(fields)
            if decision is Decision.REPAIRED:
                extra["reason"] = f"covered by the repair for sequence number {first.sequence_number}"
            outcomes.append(Outcome(record, decision, extra))
        return outcomes

    def _plan(self, first: StreamRecord, last: StreamRecord) -> _Plan:
        if first.event_name is EventName.INSERT:
            target = None
        elif first.old_image_raw is None:
            raise ValueError("no OldImage: the item strategy needs NEW_AND_OLD_IMAGES")
        else:
            target = first.old_image_raw
        if last.event_name is EventName.REMOVE:
            current = None
        elif last.new_image_raw is None:
            raise ValueError("no NewImage: the item strategy needs NEW_AND_OLD_IMAGES")
        else:
            current = last.new_image_raw
        return _Plan(target=target, current=current)

    def _repair(self, first: StreamRecord, last: StreamRecord) -> tuple[Decision, dict[str, Any]]:
        try:
            plan = self._plan(first, last)
        except ValueError as exc:
            return Decision.FAILED, {"reason": str(exc)}
        if plan.target == plan.current:
            state = "absent" if plan.target is None else "as before the first harmful change"
            return Decision.REPAIRED, {"reason": f"nothing to write: the item is already {state}"}
        try:
            if plan.target is None:
                assert plan.current is not None
                self._revert_insert(first, plan.current)
            else:
                self._revert_to_image(first, plan.target, plan.current)
        except NewerWrite as exc:
            return Decision.REPAIR_SKIPPED_NEWER_WRITE, {"reason": str(exc)}
        except ClientError as exc:
            return Decision.FAILED, {"reason": "repair write failed", "error": error_text(exc)}
        return Decision.REPAIRED, {}

    # -- the two-step writes -------------------------------------------------------------

    def _revert_to_image(self, first: StreamRecord, target: Image, current: Image | None) -> None:
        token = f"restore/{first.sequence_number}"
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if current is None:
            names["#k"] = next(iter(first.keys_raw))
            condition = "attribute_not_exists(#k)"
        else:
            self._refuse_added_attributes(first, current)
            condition = _equals_condition(current, names, values)
        item = {**to_client_image(target), MARKER: {"S": token}}
        kwargs: dict[str, Any] = {"ExpressionAttributeNames": names}
        if values:
            kwargs["ExpressionAttributeValues"] = values
        self._conditional(
            "the item changed after the batch's last change",
            self._ddb.put_item,
            TableName=first.table.name,
            Item=item,
            ConditionExpression=condition,
            **kwargs,
        )
        self._remove_marker(first.table.name, first.keys_raw, token)

    def _revert_insert(self, first: StreamRecord, current: Image) -> None:
        token = f"delete/{first.sequence_number}"
        self._refuse_added_attributes(first, current)
        names: dict[str, str] = {"#m": MARKER}
        values: dict[str, Any] = {":token": {"S": token}}
        condition = _equals_condition(current, names, values)
        self._conditional(
            "the item changed after the batch's last change",
            self._ddb.update_item,
            TableName=first.table.name,
            Key=to_client_image(first.keys_raw),
            UpdateExpression="SET #m = :token",
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        self._delete_marked(first.table.name, first.keys_raw, token)

    def _refuse_added_attributes(self, first: StreamRecord, current: Image) -> None:
        """A newer write that only added attributes passes the equality condition: look for it first."""
        now = self._ddb.get_item(
            TableName=first.table.name, Key=to_client_image(first.keys_raw), ConsistentRead=True
        ).get("Item")
        added = sorted(set(now or {}) - set(current))
        if added:
            raise NewerWrite(f"the item gained attributes after the batch's last change: {', '.join(added)}")

    def _remove_marker(self, table: str, keys: Image, token: str) -> None:
        self._conditional(
            "the item was overwritten right after the repair",
            self._ddb.update_item,
            TableName=table,
            Key=to_client_image(keys),
            UpdateExpression="REMOVE #m",
            ConditionExpression="#m = :token",
            ExpressionAttributeNames={"#m": MARKER},
            ExpressionAttributeValues={":token": {"S": token}},
        )

    def _delete_marked(self, table: str, keys: Image, token: str) -> None:
        self._conditional(
            "the item was overwritten between marking and deleting it",
            self._ddb.delete_item,
            TableName=table,
            Key=to_client_image(keys),
            ConditionExpression="#m = :token",
            ExpressionAttributeNames={"#m": MARKER},
            ExpressionAttributeValues={":token": {"S": token}},
        )

    def _finish_interrupted(self, last: StreamRecord) -> Outcome | None:
        """Complete a repair whose second step is not in the stream (crash between steps).

        Returns a failed outcome for the own-write record if the cleanup write
        failed, so the batch is redelivered and the cleanup retried.
        """
        image = last.new_image_raw
        if image is None or MARKER not in image:
            return None
        token = str(image[MARKER].get("S", ""))
        try:
            if token.startswith("delete/"):
                self._delete_marked(last.table.name, last.keys_raw, token)
            else:
                self._remove_marker(last.table.name, last.keys_raw, token)
        except NewerWrite:
            pass  # already finished, or overwritten since: nothing left to do
        except ClientError as exc:
            return Outcome(
                last,
                Decision.FAILED,
                {"reason": f"could not finish the interrupted repair {token}", "error": error_text(exc)},
            )
        return None

    @staticmethod
    def _conditional(reason: str, call: Any, **kwargs: Any) -> None:
        try:
            call(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise NewerWrite(reason) from exc
            raise


def _equals_condition(image: Image, names: dict[str, str], values: dict[str, Any]) -> str:
    """``#c0 = :c0 AND ...`` for every attribute of ``image`` (adds to names/values)."""
    parts = []
    for i, (name, value) in enumerate(sorted(image.items())):
        names[f"#c{i}"] = name
        values[f":c{i}"] = to_client_image({name: value})[name]
        parts.append(f"#c{i} = :c{i}")
    return " AND ".join(parts)
