"""--dr-redact: no account id survives in any of the five files; ARNs keep their shape."""

from __future__ import annotations

import re
from pathlib import Path

from dr_infra.report.redact import MASK, redact, redact_journal, redact_text
from tests.report import journals
from tests.report.journals import FILES


def test_no_account_id_in_any_output(redacted_report: Path, hostile_report: Path) -> None:
    assert sorted(p.name for p in redacted_report.iterdir()) == sorted([*FILES, "SHA256SUMS"])
    for name in FILES:
        text = (redacted_report / name).read_text(encoding="utf-8")
        assert journals.ACCOUNT not in text, name
        assert not re.search(r"arn:aws[\w-]*:[\w-]*:[\w-]*:\d{12}:", text), name
        assert not re.search(r"(?<!\d)\d{12}(?!\d)", text), name
    # unredacted, the id is there: the test above is not vacuous
    assert journals.ACCOUNT in (hostile_report / "report.json").read_text(encoding="utf-8")


def test_arn_shape_kept(redacted_report: Path) -> None:
    text = (redacted_report / "report.json").read_text(encoding="utf-8")
    assert f"arn:aws:dynamodb:us-east-1:{MASK}:table/orders" in text


def test_redact_text_cases() -> None:
    assert (
        redact_text("arn:aws:dynamodb:us-east-1:123456789012:table/x") == f"arn:aws:dynamodb:us-east-1:{MASK}:table/x"
    )
    assert redact_text("arn:aws-us-gov:iam::123456789012:role/r") == f"arn:aws-us-gov:iam::{MASK}:role/r"
    assert redact_text("account 123456789012.") == f"account {MASK}."
    seq = "4930000000000000000012345612"  # stream sequence numbers are longer: untouched
    assert redact_text(seq) == seq
    assert redact_text("arn:aws:s3:::bucket") == "arn:aws:s3:::bucket"
    assert redact_text("arn:aws:iam::aws:policy/ReadOnly") == "arn:aws:iam::aws:policy/ReadOnly"


def test_redact_walks_keys_numbers_and_declared_account() -> None:
    data = {
        "123456789012": [123456789012, "x"],
        "target": {"account_id": "acct-00042-emu"},
        "note": "acct-00042-emu did it",
    }
    out = redact_journal(data)
    assert out == {MASK: [MASK, "x"], "target": {"account_id": MASK}, "note": f"{MASK} did it"}
    assert redact(["a"], ["a"]) == ["a"]  # short literals are not masked: they would eat unrelated text
