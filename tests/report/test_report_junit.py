"""junit.xml: one testcase per scenario with RTO/RPO properties, parsable by ElementTree."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from tests.report.journals import HOSTILE


def parse(folder: Path) -> ET.Element:
    return ET.parse(folder / "junit.xml").getroot()  # noqa: S314 - our own output


def props(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.findall("properties/property")}


def test_counts_and_outcomes(violated_report: Path) -> None:
    root = parse(violated_report)
    assert root.tag == "testsuites"
    scenario_cases = [c for c in root.iter("testcase") if c.get("classname") != "drdrill.run"]
    assert len(scenario_cases) == 6
    # 3 violated scenarios + the leak; 1 error; 1 skip
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "7",
        "4",
        "1",
        "1",
    )
    by_name = {c.get("name"): c for c in scenario_cases}
    deletion = by_name["Deleted orders come back from the latest backup"]
    assert deletion.get("classname") == "deletion"
    failure = deletion.find("failure")
    assert failure is not None and failure.get("message", "").startswith("RTO 1 h 10 min exceeded")
    assert by_name["A failing restore job is reported and retried"].find("error") is not None
    skipped = by_name["Rogue inserts are flagged and removed"].find("skipped")
    assert skipped is not None and skipped.get("message") == "policy sets no insertion guarantee for strategy item"
    assert by_name["An overwritten price is repaired item by item"].find("*[@message]") is None
    leak = [c for c in root.iter("testcase") if c.get("classname") == "drdrill.run"]
    assert [c.get("name") for c in leak] == ["no leaked resources"]


def test_properties(violated_report: Path) -> None:
    root = parse(violated_report)
    case = next(c for c in root.iter("testcase") if c.get("classname") == "deletion")
    values = props(case)
    assert values["rto_target_s"] == "3600" and values["rto_measured_s"] == "4210"
    assert values["rpo_target_s"] == "43200" and values["rpo_measured_s"] == "30100"
    assert values["strategy"] == "backup" and values["target"] == "embedded (us-east-1)"
    for case in root.iter("testcase"):
        if case.get("classname") != "drdrill.run":
            assert {
                "rto_target_s",
                "rto_measured_s",
                "rpo_target_s",
                "rpo_measured_s",
                "strategy",
                "target",
            } <= set(props(case))


def test_suite_per_guarantee_and_sums(passed_report: Path) -> None:
    root = parse(passed_report)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "deletion",
        "modification",
        "table_loss",
        "idempotency",
        "posture",
        "restore_faults",
    ]
    assert sum(int(s.get("tests", "0")) for s in suites) == int(root.get("tests", "0")) == 7
    assert root.get("failures") == root.get("errors") == "0" and root.get("skipped") == "1"


def test_hostile_names_survive_as_text(hostile_report: Path) -> None:
    root = parse(hostile_report)  # would raise on broken XML
    assert HOSTILE in [c.get("name") for c in root.iter("testcase")]


def test_repository_relative_file_and_line_and_expected_violations(tmp_path: Path) -> None:
    from dr_infra.report.junit import write_junit
    from tests.report import journals

    data = journals.as_dict(journals.violated_journal())
    fault = next(s for s in data["scenarios"] if s["guarantee"] == "restore_faults")
    fault.update(status="passed", failure=None, line=12)
    fault["evidence"]["expected_violation"] = [{"measure": "rto", "fault": "restore jobs take 5 seconds"}]
    write_junit(data, tmp_path)
    cases = {c.get("name"): c for c in parse(tmp_path).iter("testcase") if c.get("classname") != "drdrill.run"}
    for case in cases.values():
        assert case.get("file", "").startswith("features/") and not case.get("file", "").startswith("/")
        assert case.get("line", "").isdigit()
    marked = cases[fault["name"]]
    assert marked.get("line") == "12" and props(marked)["expected_violation"] == "rto"
    assert marked.find("failure") is None and marked.find("error") is None
    assert all(props(c)["expected_violation"] == "" for name, c in cases.items() if name != fault["name"])
