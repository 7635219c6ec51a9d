"""An item's size limit checked once per item, not again for every attribute it is built from.

What AWS does (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-items):
"The maximum item size in DynamoDB is 400 KB, which includes both attribute name binary length (UTF-8 length)
and attribute value lengths"; PutItem, UpdateItem and BatchWriteItem refuse a larger item with
``ValidationException`` ("Item size has exceeded the maximum allowed size").

What moto 5.2.5 does: an ``Item`` puts its attributes one by one into a ``LimitedSizeDict``, whose
``__setitem__`` sums the size of every attribute already there before it adds the next: quadratic in the number
of attributes. For the drills' items (a dozen attributes) that was 3.8 CPU-ms per item written, most of a
BatchWriteItem's 100 CPU-ms (yappi, eight drills: 5.4 of the server's CPU-s in ``Item.__init__``). Its limit is
405,000 bytes (a little under AWS's 409,600) and stays so: this module changes the cost, not the answer.

What is done here: ``Item.__init__`` builds the same ``LimitedSizeDict`` and checks the total once. Each step
of moto's check compared a running total that only grows, so the item it refuses is exactly the one whose
total exceeds the limit; the error is the same ``ItemSizeTooLarge``. Later writes to ``item.attrs`` (UpdateItem
adds attributes one at a time) still go through moto's own per-attribute check.
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize

from dr_infra.targets.embedded import moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.models.dynamo_type.Item.__init__",
    "moto.dynamodb.models.dynamo_type.LimitedSizeDict.__setitem__",
    "moto.dynamodb.models.utilities.bytesize",
    "moto.dynamodb.exceptions.ItemSizeTooLarge",
)

MOTO_ITEM_LIMIT = 405000
"""moto's limit (``LimitedSizeDict.__setitem__``), kept: see the module docstring."""


def _item_init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    """moto's ``Item.__init__`` with its size check made once over the whole item."""
    self.hash_key = hash_key
    self.range_key = range_key
    values = LimitedSizeDict()
    total = 0
    for key, value in attrs.items():
        typed = DynamoType(value)
        total += bytesize(key) + typed.size()
        dict.__setitem__(values, key, typed)
    if total > MOTO_ITEM_LIMIT:
        raise ItemSizeTooLarge
    self.attrs = values


def install() -> None:
    moto_patch.replace(Item, "__init__", _item_init, by=__name__)
