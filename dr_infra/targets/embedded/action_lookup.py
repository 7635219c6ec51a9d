"""moto's "is this action a method of the handler" check, answered from a table per class, not by ``inspect``.

What AWS does: a request reaches the operation it names, for DynamoDB the ``X-Amz-Target`` header's
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html); nothing here
changes which operation answers.

What moto 5.2.5 does: ``BaseResponse.call_action`` calls ``method_names_from_class(self.__class__)`` on every
request: ``inspect.getmembers`` over the handler class and its bases, which reads every attribute of a class
with some hundred of them. That was 1.8 CPU-ms per request, about a tenth of a DynamoDB call's server time
(yappi, 1,111 DynamoDB requests of eight drills: 2.0 CPU-s).

What is done here: the same list, remembered per class together with the number of drdrill's patches applied
when it was made (:data:`moto_patch.MOTO`): a patch that adds or replaces a handler method after the first
lookup makes the next one compute the list again. moto's classes change only through those patches while the
server runs, so the answer is the one moto would compute.
"""

from __future__ import annotations

import threading

from moto.core import responses
from moto.core.utils import method_names_from_class as _computed

from dr_infra.targets.embedded import moto_patch

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.core.responses.method_names_from_class",
    "moto.core.utils.method_names_from_class",
)

_lock = threading.Lock()
_known: dict[type, tuple[int, list[str]]] = {}


def method_names_from_class(clazz: type) -> list[str]:
    """moto's ``method_names_from_class``, remembered per class while drdrill's patches stay as they were."""
    patches = moto_patch.MOTO.count()
    with _lock:
        found = _known.get(clazz)
    if found is not None and found[0] == patches:
        return found[1]
    names = _computed(clazz)
    with _lock:
        _known[clazz] = (patches, names)
    return names


def install() -> None:
    moto_patch.replace(responses, "method_names_from_class", method_names_from_class, by=__name__)
