"""``--dr-redact``: mask AWS account ids (and so the account part of every ARN) before anything renders.

Why on the journal dict and not in each renderer: every output (HTML, Markdown, JSON, JUnit, CSV) is made
from the same redacted dict, so no format can forget to redact and a new format is covered for free.

Why a mask and not a hash: a 12-digit account id has only 10^12 values, so an unsalted hash is reversible
by brute force. The mask keeps the ARN's shape (``arn:aws:dynamodb:us-east-1:************:table/x``) so a
reader still sees which service, region and resource it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "************"
MIN_LITERAL = 8

#: A 12-digit run not inside a longer number (stream sequence numbers are 20+ digits and stay).
ACCOUNT_ID = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")

#: The account field of an ARN, whatever it holds (arn:partition:service:region:ACCOUNT:resource).
ARN_ACCOUNT = re.compile(r"\b(arn:[A-Za-z0-9-]+:[A-Za-z0-9-]*:[A-Za-z0-9-]*:)([0-9]{12})(?=:)")


def redact_text(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with account ids masked: ARN account fields, any 12-digit id, and the ``extra`` literals."""
    for literal in extra:
        if literal:
            text = text.replace(literal, MASK)
    text = ARN_ACCOUNT.sub(lambda m: m.group(1) + MASK, text)
    return ACCOUNT_ID.sub(MASK, text)


def redact(data: Any, extra: Iterable[str] = ()) -> Any:
    """A deep copy of ``data`` (JSON-shaped) with every string, and every dict key, redacted.

    ``extra`` are literal values to mask too (the target's ``account_id``, whatever its form: an
    emulator may report a non-12-digit id). Numbers are not touched: an account id stored as a number
    would be unusual, but is masked too when it has 12 digits.
    """
    # Short literals would mask unrelated text (an id of "1" would eat every digit one).
    literals = sorted({str(e) for e in extra if e and len(str(e)) >= MIN_LITERAL}, key=len, reverse=True)
    return _walk(data, literals)


def _walk(value: Any, literals: list[str]) -> Any:
    if isinstance(value, str):
        return redact_text(value, literals)
    if isinstance(value, Mapping):
        return {_walk(k, literals) if isinstance(k, str) else k: _walk(v, literals) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v, literals) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and ACCOUNT_ID.fullmatch(str(value)):
        return MASK
    return value


def redact_journal(data: Mapping[str, Any]) -> dict[str, Any]:
    """A redacted copy of a journal dict; the target's declared ``account_id`` is masked wherever it is."""
    target = data.get("target")
    account = target.get("account_id") if isinstance(target, Mapping) else None
    redacted = redact(data, [str(account)] if account else [])
    assert isinstance(redacted, dict)
    return redacted
