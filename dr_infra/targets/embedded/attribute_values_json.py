"""DynamoDB items answered in the same JSON moto writes, without walking moto's shape model once per value.

What AWS does: DynamoDB (and DynamoDB Streams) answer in the ``awsJson1_0`` protocol, where an item is a map of
attribute name to ``AttributeValue``, a one-member structure such as ``{"S": "text"}``, ``{"N": "1.5"}``,
``{"B": "<base64>"}``, ``{"M": {...}}`` or ``{"L": [...]}``
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html,
https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html). Nothing here changes what is answered.

What moto 5.2.5 does: its model-driven ``ResponseSerializer`` serializes every ``AttributeValue`` by visiting
all ten members of the structure through its attribute picker (six alias providers and ``xform_name`` per
member), then every element of a set, list or map the same way. For drdrill's seeded items (twelve attributes
with nested maps, lists and sets) a 100-item BatchGetItem took about 200 CPU-ms in the server, 90 % of it in that
walk; under ``drdrill run -n 8`` the item-repair probe and the stream poller's GetRecords made moto's
serializer the largest single cost of the shared server, competing for the same two cores as the drills it timed
(BENCHMARKS.md, issue 19).

What is done here: the JSON serializer's handling of a structure shape named ``AttributeValue`` whose members are
the ten AWS documents (and of a map whose values are that shape) writes the value directly, with moto's own rules
for each member type: a string member as the string, a blob member through the serializer's own ``_base64``, a
string or binary set as a list, ``M`` and ``L`` recursively, ``NULL``/``BOOL`` as given, members absent from the
value left out. Any value that is not exactly that shape of Python data (another type, an unknown or ``None``
member, a set that is not a list of strings or bytes) and any serializer whose attribute picker carries response
transformers goes to moto's own method, unchanged. tests/embedded/test_attribute_values_json.py proves the output
equal to moto's own, value for value, on generated items and on whole responses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.serialize import BaseJSONSerializer

from dr_infra.targets.embedded import moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.core.serialize.BaseJSONSerializer._serialize_type_structure",
    "moto.core.serialize.BaseJSONSerializer._serialize_type_map",
    "moto.core.serialize.ResponseSerializer._base64",
)

#: ``AttributeValue``'s members and their kinds, as the DynamoDB API reference lists them.
MEMBER_KINDS: dict[str, str] = {
    "S": "string",
    "N": "string",
    "B": "blob",
    "SS": "strings",
    "NS": "strings",
    "BS": "blobs",
    "M": "map",
    "L": "list",
    "NULL": "as_is",
    "BOOL": "as_is",
}


class _Unhandled(Exception):
    """The value is not plain wire-format data: moto's own serializer writes it."""


_LEAF_KINDS = {"string": "string", "blob": "blob", "boolean": "as_is"}
"""Shape types written as one value, and what this module calls them."""
_LEAF_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "blob": (str, bytes), "as_is": (bool,)}
"""The Python types a leaf takes here; any other goes to moto (whose writer would coerce it)."""


def _shape_kind(shape: Any) -> str | None:
    """What kind a member shape is, as this module writes it, or ``None`` when it cannot be written here."""
    if shape.serialization.get("name"):
        return None
    if shape.type_name in _LEAF_KINDS:
        return _LEAF_KINDS[shape.type_name]
    if shape.type_name == "map":
        return "map" if shape.value.name == "AttributeValue" else None
    if shape.type_name != "list" or shape.member.serialization.get("name"):
        return None
    if shape.member.name == "AttributeValue":
        return "list"
    return {"string": "strings", "blob": "blobs"}.get(_shape_kind(shape.member) or "")


_CHECKED: dict[int, tuple[Any, bool]] = {}
"""Per shape object: whether it is the documented ``AttributeValue``. moto caches one service model per service
and botocore caches each operation's shapes on it, so this holds a bounded set; the shape is kept beside its
answer so that its ``id`` is never reused for another."""


def is_attribute_value(shape: Any) -> bool:
    """Whether ``shape`` is DynamoDB's ``AttributeValue`` structure, member for member (checked once per shape)."""
    known = _CHECKED.get(id(shape))
    if known is not None:
        return known[1]
    found = bool(
        shape.name == "AttributeValue"
        and shape.type_name == "structure"
        and not shape.serialization.get("name")
        and list(shape.members) == list(MEMBER_KINDS)
        and all(_shape_kind(shape.members[name]) == kind for name, kind in MEMBER_KINDS.items())
    )
    _CHECKED[id(shape)] = (shape, found)
    return found


def attribute_value(value: Any, base64: Callable[[Any], str]) -> dict[str, Any]:
    """The JSON moto writes for one ``AttributeValue`` (members in the model's order); raises :class:`_Unhandled`."""
    if type(value) is not dict:
        raise _Unhandled
    written: dict[str, Any] = {}
    for name, kind in MEMBER_KINDS.items():
        if name not in value:
            continue
        member = value[name]
        if member is None:
            raise _Unhandled
        written[name] = _member(kind, member, base64)
    if len(written) != len(value):  # a key that is no member: moto's picker might find it under an alias
        raise _Unhandled
    return written


def _member(kind: str, member: Any, base64: Callable[[Any], str]) -> Any:
    if kind in _LEAF_TYPES:
        if type(member) not in _LEAF_TYPES[kind]:
            raise _Unhandled
        return base64(member) if kind == "blob" else member
    if kind == "map":
        return attribute_map(member, base64)
    if type(member) is not list:
        raise _Unhandled
    if kind == "list":
        return [attribute_value(element, base64) for element in member]
    element_kind = "string" if kind == "strings" else "blob"
    return [_member(element_kind, element, base64) for element in member]


def attribute_map(value: Any, base64: Callable[[Any], str]) -> dict[str, Any]:
    """The JSON moto writes for a map of ``AttributeValue`` (an item, a key, ``M``); raises :class:`_Unhandled`."""
    if type(value) is not dict:
        raise _Unhandled
    written: dict[str, Any] = {}
    for key, element in value.items():
        if type(key) is not str or element is None:
            raise _Unhandled
        written[key] = attribute_value(element, base64)
    return written


def _plain_picker(serializer: BaseJSONSerializer) -> bool:
    return not getattr(serializer._value_picker, "response_transformers", None)


def _shortcut(
    applies: Callable[[Any, str], bool], write: Callable[[Any, Callable[[Any], str]], dict[str, Any]]
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A wrap of one of moto's ``_serialize_type_*`` methods: ``write`` the value when ``applies(shape, key)`` and
    the serializer's picker is plain; moto's own method for anything ``write`` leaves to it (:class:`_Unhandled`)."""

    def wrap(original: Callable[..., None]) -> Callable[..., None]:
        def serialize(self: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str) -> None:
            if value is not None and applies(shape, key) and _plain_picker(self):
                try:
                    serialized[key] = write(value, self._base64)
                    return
                except _Unhandled:
                    pass
            original(self, serialized, value, shape, key)

        return serialize

    return wrap


def _structure_applies(shape: Any, key: str) -> bool:
    return bool(key) and is_attribute_value(shape)


def _map_applies(shape: Any, key: str) -> bool:
    return (
        is_attribute_value(shape.value)
        and not shape.serialization.get("name")
        and not shape.key.serialization.get("name")
    )


def install() -> None:
    """Wrap moto's JSON serializer for ``AttributeValue`` structures and maps of them."""
    moto_patch.wrap(
        BaseJSONSerializer, "_serialize_type_structure", _shortcut(_structure_applies, attribute_value), by=__name__
    )
    moto_patch.wrap(BaseJSONSerializer, "_serialize_type_map", _shortcut(_map_applies, attribute_map), by=__name__)
