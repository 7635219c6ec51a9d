"""AWS Backup list pagination: ``MaxResults`` (1..1000) pages and an opaque ``NextToken`` to the next page.

What AWS does: every AWS Backup List* operation returns at most ``MaxResults`` items (1 to 1000) and a
``NextToken`` when more remain; passing the token back returns the next page, and an invalid token is refused.
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListRecoveryPointsByResource.html
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListBackupJobs.html

What moto 5.2.5 does instead: the operations drdrill adds (:mod:`backup_routes`) would return everything and
ignore MaxResults.

What is modelled here: the list is cut in its stable order (creation order); the token names the list and the
offset (base64), so a token from another list or a forged one is ``InvalidParameterValueException``; without
``MaxResults`` everything is returned in one page.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from moto.backup.exceptions import InvalidParameterValueException
from moto.backup.responses import BackupResponse

HOOKED_INTERNALS: tuple[str, ...] = ("moto.backup.responses.BackupResponse",)

MAX_RESULTS = 1000


def _query(response: BackupResponse, name: str) -> str | None:
    values = response.querystring.get(name)
    return str(values[0]) if values else None


def _token(key: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{key}:{offset}".encode()).decode()


def _offset(key: str, token: str) -> int:
    try:
        name, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if name == key and offset.isdigit():
            return int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidParameterValueException(f"Invalid NextToken {token!r}: pass the NextToken of the previous page")


def paged(response: BackupResponse, key: str, items: list[Any]) -> dict[str, Any]:
    """``{key: page}`` plus ``NextToken`` when items remain, from the request's maxResults / nextToken."""
    raw_max = _query(response, "maxResults")
    if raw_max is not None and not (raw_max.isdigit() and 1 <= int(raw_max) <= MAX_RESULTS):
        raise InvalidParameterValueException(f"MaxResults must be between 1 and {MAX_RESULTS}, got {raw_max}")
    token = _query(response, "nextToken")
    start = _offset(key, token) if token else 0
    end = start + int(raw_max) if raw_max is not None else len(items)
    result: dict[str, Any] = {key: items[start:end]}
    if end < len(items):
        result["NextToken"] = _token(key, end)
    return result


def install() -> None:
    """Nothing to patch: :mod:`backup_routes` calls :func:`paged`."""
