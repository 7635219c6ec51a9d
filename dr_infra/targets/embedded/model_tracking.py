"""Stop moto from keeping every DynamoDB item, stream record and shard iterator it ever made.

What moto 5.2.5 does: every class derived from ``moto.core.common_models.BaseModel`` appends each new instance
to its class's ``instances_tracked`` list (``BaseModel.__new__``), only so that moto's dashboard
(``/moto-api/data.json``) can list them; the list is emptied only by a moto reset. For DynamoDB this means that
every ``Item`` ever built stays in memory: overwritten and deleted items, the deep copies moto makes of every
Query and Scan result page, of the item before every UpdateItem, and of *every table* before every
TransactWriteItems (for its rollback). So do every ``StreamRecord`` and every ``ShardIterator`` (a new one per
GetRecords call). A 20 000-item drill kept about 9 KB per item this way, growing with every read.

What AWS does: a deleted or overwritten item is gone (DeleteItem "deletes a single item in a table by primary key",
PutItem "replaces" an existing item: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteItem.html,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html); reads copy nothing that stays.
Nothing AWS-visible depends on moto's tracking lists.

What is done here: ``Item``, ``StreamRecord`` and ``ShardIterator`` are created without being tracked (their
``__new__`` is ``object.__new__``), so an instance lives exactly as long as something that uses it refers to it.
The only loss is that moto's dashboard no longer lists those three kinds of object (it is no AWS API).
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import StreamRecord
from moto.dynamodbstreams.models import ShardIterator

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.core.common_models.BaseModel.__new__",
    "moto.dynamodb.models.dynamo_type.Item",
    "moto.dynamodb.models.table.StreamRecord",
    "moto.dynamodbstreams.models.ShardIterator",
)

UNTRACKED: tuple[type, ...] = (Item, StreamRecord, ShardIterator)
"""The per-item (or per-read) moto models whose instances are no longer kept in ``instances_tracked``."""


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    """``BaseModel.__new__`` without the append to ``cls.instances_tracked``."""
    return object.__new__(cls)


def install() -> None:
    """Make the per-item models untracked (idempotent) and drop what was tracked so far."""
    for model in UNTRACKED:
        model.__new__ = staticmethod(_untracked_new)  # type: ignore[assignment]
        tracked = getattr(model, "instances_tracked", None)
        if isinstance(tracked, list):
            tracked.clear()
