"""A change monitor drdrill did not write is judged by what AWS shows: a zip that prints plain text, one whose
import fails (reported with Lambda's own error line, not hung), a step that needs decision lines reported as not
applicable, and the shipped seed-runbook example with its own monitor."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import pytest

from tests.cli.conftest import REPO, run_drdrill

PLAIN = """
import os
import boto3

backup = boto3.client("backup")


def handler(event, context):
    names = sorted({r["eventName"] for r in event["Records"]})
    points = backup.list_recovery_points_by_resource(ResourceArn=os.environ["TABLE_ARN"])["RecoveryPoints"]
    newest = max(points, key=lambda p: p["CreationDate"])
    target = os.environ["TABLE_NAME"] + "-restored-copy"  # the drill's backup role restores only there
    job = backup.start_restore_job(
        RecoveryPointArn=newest["RecoveryPointArn"], IamRoleArn=os.environ["ROLE"], ResourceType="DynamoDB",
        Metadata={"targetTableName": target}, IdempotencyToken=target,
    )
    print("saw", ",".join(names), "so I restored it as", target, "job", job["RestoreJobId"])
"""
BROKEN = "import a_module_nobody_installed\n\n\ndef handler(event, context):\n    return None\n"
DEFINITION = """
[monitor]
source = "{source}"
handler = "{handler}"
timeout_seconds = 30
{pattern}
[monitor.environment]
TABLE_ARN = "{{table_arn}}"
TABLE_NAME = "{{table_name}}"
ROLE = "{{restore_role_arn}}"
"""
FEATURE = """Feature: A user's monitor
  Scenario: The user's monitor restores a deleted item
    Given a DR-protected table "locks" with 12 items as defined in "{definition}"
    And a recovery point of the table exists
    When 1 item is deleted
    Then a restore job completes within {seconds} seconds
    And the restored table matches the table as it was before the change
    And exactly 1 restore job started
    And the change monitor logged the REMOVE event
    And the restored table is protected again
"""


def _zip(path: Path, module: str, text: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{module}.py", text)
    return path


def _setup(tmp_path: Path, code: str, *, pattern: str = "", seconds: int = 60) -> Path:
    _zip(tmp_path / "monitor.zip", "plain_monitor", code)
    (tmp_path / "stack.toml").write_text(
        DEFINITION.format(source="monitor.zip", handler="plain_monitor.handler", pattern=pattern), "utf-8"
    )
    feature = tmp_path / "user.feature"
    feature.write_text(FEATURE.format(definition="stack.toml", seconds=seconds), "utf-8")
    return feature


def _journal(folder: Path) -> dict:
    return json.loads((folder / "report.json").read_text(encoding="utf-8"))


def test_a_plain_text_monitor_is_judged_by_aws_and_its_log_pattern(tmp_path: Path) -> None:
    feature = _setup(tmp_path, PLAIN, pattern='log_pattern = "saw (?P<event>[A-Z,]+) .* job (?P<job>\\\\S+)"')
    result = run_drdrill("run", str(feature), "--report-dir", "r", "-q", cwd=tmp_path, timeout=300)
    assert result.code == 0, result.stdout[-3000:] + result.stderr
    scenario = _journal(tmp_path / "r")["scenarios"][0]
    evidence = scenario["evidence"]
    job = evidence["restore_jobs"][0]
    assert job["status"] == "COMPLETED" and job["created_resource_arn"].endswith("-locks-restored-copy")
    assert evidence["restore_job_count"][0]["monitor_logged"] == [job["job_id"]]  # from the user's own line
    assert any("so I restored it as" in line["message"] for line in evidence["monitor_output"])
    assert evidence["monitor_pattern_lines"][0]["event"] == "REMOVE"
    assert evidence["diff"][0]["equal"]
    steps = {s["text"]: s for s in scenario["steps"]}
    skipped = steps["the restored table is protected again"]
    assert skipped["status"] == "skipped" and "not applicable to this monitor" in skipped["error"]
    assert evidence["not_applicable"][0]["step"] == "the restored table is protected again"
    assert scenario["cleanup"]["failed"] == []


def test_decision_steps_without_a_log_pattern_are_not_applicable_never_passed(tmp_path: Path) -> None:
    feature = _setup(tmp_path, PLAIN)
    result = run_drdrill("run", str(feature), "--report-dir", "r", "-q", cwd=tmp_path, timeout=300)
    assert result.code == 0, result.stdout[-3000:] + result.stderr
    scenario = _journal(tmp_path / "r")["scenarios"][0]
    step = next(s for s in scenario["steps"] if s["text"] == "the change monitor logged the REMOVE event")
    assert step["status"] == "skipped" and "log_pattern" in step["error"], step
    assert any("not applicable to this monitor" in note for note in scenario["evidence"]["notes"])
    markdown = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "not applicable to this monitor" in markdown


def test_a_monitor_whose_import_fails_is_reported_not_hung(tmp_path: Path) -> None:
    feature = _setup(tmp_path, BROKEN, seconds=15)
    started = time.monotonic()
    result = run_drdrill("run", str(feature), "--report-dir", "r", "-q", cwd=tmp_path, timeout=300)
    assert time.monotonic() - started < 120
    assert result.code == 1, result.stdout[-3000:] + result.stderr
    scenario = _journal(tmp_path / "r")["scenarios"][0]
    assert scenario["status"] == "failed"
    assert "Runtime.ImportModuleError" in scenario["failure"], scenario["failure"]
    assert "a_module_nobody_installed" in scenario["failure"]
    assert any("Unable to import module" in line for line in scenario["evidence"]["monitor_errors"])
    assert scenario["cleanup"]["failed"] == []


RAISES = "def handler(event, context):\n    raise RuntimeError('the vault is not where I expected it')\n"
SLEEPS = "import time\n\n\ndef handler(event, context):\n    time.sleep(30)\n"


@pytest.mark.parametrize(
    ("code", "timeout", "quoted"),
    [
        (RAISES, 30, "RuntimeError: the vault is not where I expected it"),
        (SLEEPS, 1, "Task timed out after 1"),
    ],
    ids=["exception", "timeout"],
)
def test_a_monitor_that_raises_or_times_out_is_quoted(tmp_path: Path, code: str, timeout: int, quoted: str) -> None:
    feature = _setup(tmp_path, code, seconds=15)
    toml = (
        (tmp_path / "stack.toml")
        .read_text(encoding="utf-8")
        .replace("timeout_seconds = 30", f"timeout_seconds = {timeout}")
    )
    (tmp_path / "stack.toml").write_text(toml, encoding="utf-8")
    result = run_drdrill("run", str(feature), "--report-dir", "r", "-q", cwd=tmp_path, timeout=300)
    assert result.code == 1, result.stdout[-3000:] + result.stderr
    scenario = _journal(tmp_path / "r")["scenarios"][0]
    assert quoted in scenario["failure"], scenario["failure"]
    assert any(quoted in line for line in scenario["evidence"]["monitor_errors"])
    assert quoted in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert scenario["cleanup"]["failed"] == []


def test_the_seed_runbook_example_passes_with_its_own_monitor(tmp_path: Path) -> None:
    result = run_drdrill(
        "run", str(REPO / "examples" / "seed-runbook"), "--report-dir", "r", "-q", cwd=tmp_path, timeout=300
    )
    assert result.code == 0, result.stdout[-3000:] + result.stderr
    journal = _journal(tmp_path / "r")
    drill = journal["scenarios"][0]
    evidence = drill["evidence"]
    assert any("recovery-lambda.lambda_handler" in item for item in evidence["stack"]["created"])
    assert evidence["restore_jobs"][0]["status"] == "COMPLETED"
    assert any("RESTORE JOB STARTED" in line["message"] for line in evidence["monitor_output"])
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "RESTORE JOB STARTED" in html and "recovery-lambda.lambda_handler" in html
    markdown = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")  # the PR comment / CI page shows it too
    assert "the user's function" in markdown and "(handler `recovery-lambda.lambda_handler`" in markdown
    assert f"`{evidence['restore_jobs'][0]['job_id']}`" in markdown and "RESTORE JOB STARTED: " in markdown
    assert all(s["status"] == "passed" for s in journal["scenarios"])


def test_the_shipped_chaos_outcomes_judge_a_users_monitor_from_aws(tmp_path: Path) -> None:
    """The shipped hostile-restore-path feature, unchanged, on the seed runbook's own monitor: retried failures,
    a timeout, a discarded batch and a disabled mapping are judged from invocations and AWS's restores; the two
    steps that need drdrill's decision lines are recorded as not applicable."""
    feature = REPO / "features" / "restore_faults" / "hostile_restore_path.feature"
    stack = REPO / "examples" / "seed-runbook" / "stack.toml"
    result = run_drdrill(
        "run", str(feature), "--stack", str(stack), "--report-dir", "r", "-q", "-n", "2", cwd=tmp_path, timeout=900
    )
    assert result.code == 0, result.stdout[-3000:] + result.stderr
    journal = _journal(tmp_path / "r")
    skipped = {s["text"] for scenario in journal["scenarios"] for s in scenario["steps"] if s["status"] == "skipped"}
    assert skipped == {
        "the change monitor logged no recovery point before the change",
        "the report notes that the RPO cannot be met for changes before the first backup",
    }
    retried = next(s for s in journal["scenarios"] if s["name"].startswith("A change monitor that fails its first"))
    assert retried["evidence"]["monitor_retries"]["invocations"] >= 3
    assert len(retried["evidence"]["monitor_retries"]["function_errors"]) == 2


WATCHFUL = """
import os
import boto3

backup = boto3.client("backup")


def handler(event, context):
    names = [r["eventName"] for r in event["Records"]]
    points = backup.list_recovery_points_by_resource(ResourceArn=os.environ["TABLE_ARN"])["RecoveryPoints"]
    if any(name != "REMOVE" for name in names):
        # Something other than the drill's change reached the monitor: it would have been taken for harm. Deleting
        # the recovery points makes that visible whenever it happened (the deletion's restore then never starts).
        for point in points:
            backup.delete_recovery_point(
                BackupVaultName=point["BackupVaultName"], RecoveryPointArn=point["RecoveryPointArn"]
            )
        print("HARM BEFORE THE CHANGE: saw", ",".join(names))
        return
    newest = max(points, key=lambda p: p["CreationDate"])
    target = os.environ["TABLE_NAME"] + "-restored-copy"
    job = backup.start_restore_job(
        RecoveryPointArn=newest["RecoveryPointArn"], IamRoleArn=os.environ["ROLE"], ResourceType="DynamoDB",
        Metadata={"targetTableName": target}, IdempotencyToken=target,
    )
    print("saw", ",".join(names), "so I restored it as", target, "job", job["RestoreJobId"])
"""
WIDE_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
QUIET_SETUP = """Feature: Setting up a drill does not look like harm to the user's monitor
  Scenario: Only the drill's deletion reaches the user's monitor
    Given a DR-protected table "locks" with 12 items as defined in "stack.toml"
    And the table holds the item "kept-lock"
    And the change monitor restores with the "backup" strategy
    And the change monitor reacts to "REMOVE" events
    And a recovery point of the table exists
    Then point-in-time recovery is enabled on the table
    And the backup selection covers the table
    When 1 item is deleted
    Then a restore job completes within 60 seconds
    And the restored table matches the table as it was before the change
    And exactly 1 restore job started
"""


def test_nothing_the_drill_does_before_the_change_reaches_the_users_monitor(tmp_path: Path) -> None:
    """Seeding, a named item, the strategy and trigger steps, an on-demand recovery point, arming the monitor and
    posture checks write nothing a monitor would take for harm: the user's monitor sees only the REMOVE. (Were any
    other record delivered to it, before the change or with it, it deletes the recovery points and no restore
    starts.)"""
    _zip(tmp_path / "monitor.zip", "watchful", WATCHFUL)
    (tmp_path / "policy.json").write_text(json.dumps(WIDE_POLICY), encoding="utf-8")
    definition = DEFINITION.format(source="monitor.zip", handler="watchful.handler", pattern="")
    definition = definition.replace("timeout_seconds = 30", 'timeout_seconds = 30\nrole_policy = "policy.json"')
    (tmp_path / "stack.toml").write_text(definition, encoding="utf-8")
    (tmp_path / "quiet.feature").write_text(QUIET_SETUP, encoding="utf-8")
    result = run_drdrill("run", "quiet.feature", "--report-dir", "r", "-q", cwd=tmp_path, timeout=300)
    assert result.code == 0, result.stdout[-3000:] + result.stderr
    scenario = _journal(tmp_path / "r")["scenarios"][0]
    said = [line["message"] for line in scenario["evidence"]["monitor_output"]]
    assert said and all(line.startswith("saw REMOVE so I restored it") for line in said), said
    assert scenario["evidence"]["restore_jobs"][0]["status"] == "COMPLETED"
