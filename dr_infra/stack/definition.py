"""Load and validate a stack definition file (TOML): what "a DR-protected table" is for the user's system.

The keys (``[table]``, ``[items]``, ``[monitor]``, ``[backup]``) are a public contract, documented in
``definition.schema.json`` next to this module, which validates the file's structure (JSON Schema 2020-12). The
rules JSON Schema cannot say (a local secondary index needs a sort key, one type per attribute, files that must
exist, placeholders drdrill knows, the backup plan's vault) are checked after it. Every problem is found here,
before any resource is created, and reported as one line naming the file, the key and the fix
(:class:`~dr_infra.errors.ConfigError`, exit 2).
"""

from __future__ import annotations

import re
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dr_infra.errors import ConfigError
from dr_infra.stack.definition_check import Checker, schema
from dr_infra.stack.definition_table import sample_fits, table_shape
from dr_infra.stack.deployed import DeployedDefinition, deployed_section, parse_stack_from
from dr_infra.stack.sample_items import load_sample
from dr_infra.stack.table_shape import DEFAULT_SHAPE, TableShape

RESERVED_ENVIRONMENT = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
"""Lambda's reserved variables, which CreateFunction refuses to set
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime)."""
MAX_ENVIRONMENT_BYTES = 4096
"""Lambda's limit on the total size of a function's environment variables (same page)."""
MAX_ZIP_BYTES = 50 * 1024 * 1024
"""Lambda's limit on a zip uploaded directly with CreateFunction (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html);
a folder is measured unzipped, an upper bound of its zip."""
DEFAULT_RUNTIME = "python3.13"
DEFAULT_TIMEOUT_S = 60
DEFAULT_COUNT = 100


@dataclass(frozen=True)
class MonitorDefinition:
    """The user's change monitor: code, handler, runtime, role policy, how to read its log, its environment."""

    source: Path
    handler: str
    runtime: str = DEFAULT_RUNTIME
    timeout_seconds: int = DEFAULT_TIMEOUT_S
    role_policy: dict[str, Any] | None = None
    role_policy_file: Path | None = None
    log_pattern: str | None = None
    environment: dict[str, str] = field(default_factory=dict)

    def pattern(self) -> re.Pattern[str] | None:
        return re.compile(self.log_pattern) if self.log_pattern else None


@dataclass(frozen=True)
class BackupDefinition:
    """The user's backup plan and selection, in the AWS CLI's ``--backup-plan`` / ``--backup-selection`` shapes."""

    plan: dict[str, Any]
    selection: dict[str, Any]
    plan_file: Path
    selection_file: Path


@dataclass(frozen=True)
class StackDefinition:
    """One loaded, validated stack definition file."""

    path: Path
    table: TableShape = DEFAULT_SHAPE
    sample: tuple[dict[str, Any], ...] = ()
    sample_file: Path | None = None
    count: int = DEFAULT_COUNT
    monitor: MonitorDefinition | None = None
    backup: BackupDefinition | None = None
    deployed: DeployedDefinition | None = None
    """A ``[deployed]`` section: the stack exists and is drilled in place (:mod:`dr_infra.stack.deployed`)."""

    def describe(self) -> dict[str, Any]:
        """What the definition makes a drill create (``drdrill plan``, the journal's stack evidence)."""
        return {
            "file": str(self.path),
            "table": self.table.describe(),
            "sample": str(self.sample_file) if self.sample_file else None,
            "sample_items": len(self.sample),
            "monitor": None
            if self.monitor is None
            else {
                "source": str(self.monitor.source),
                "handler": self.monitor.handler,
                "runtime": self.monitor.runtime,
                "timeout_seconds": self.monitor.timeout_seconds,
                "role_policy": str(self.monitor.role_policy_file) if self.monitor.role_policy_file else "drdrill's",
                "log_pattern": self.monitor.log_pattern,
                "environment": dict(self.monitor.environment),
            },
            "backup": None
            if self.backup is None
            else {"plan": str(self.backup.plan_file), "selection": str(self.backup.selection_file)},
            **({"deployed": self.deployed.describe()} if self.deployed is not None else {}),
        }


def _handler_present(check: Checker, source: Path, handler: str) -> None:
    module = handler.rpartition(".")[0]
    file = f"{module.replace('.', '/')}.py"
    candidates = {file, f"{module.replace('.', '/')}/__init__.py"}
    if source.is_dir():
        present = any((source / c).is_file() for c in candidates)
    else:
        try:
            with zipfile.ZipFile(source) as archive:
                present = bool(candidates & set(archive.namelist()))
        except zipfile.BadZipFile:
            raise check.fail("monitor.source", f"{source.name} is not a zip file", "zip the code again") from None
    if not present:
        raise check.fail(
            "monitor.handler",
            f"handler {handler!r} needs {file} in {source.name}",
            "name the module file (without .py) and the function, e.g. recovery-lambda.lambda_handler",
        )


def _monitor(check: Checker, raw: dict[str, Any]) -> MonitorDefinition:
    source = check.file("monitor.source", str(raw["source"]), kind="source")
    handler = str(raw["handler"])
    _handler_present(check, source, handler)
    size = (
        source.stat().st_size if source.is_file() else sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    )
    if size > MAX_ZIP_BYTES:
        raise check.fail(
            "monitor.source",
            f"{source.name} holds {size / 1e6:.1f} MB, more than the 50 MB a function's zip may have",
            "ship its dependencies as a layer or leave caches and tests out",
        )
    policy_file = check.file("monitor.role_policy", str(raw["role_policy"])) if "role_policy" in raw else None
    policy = check.json_file("monitor.role_policy", policy_file) if policy_file else None
    if policy is not None and not isinstance(policy.get("Statement"), list | dict):
        raise check.fail("monitor.role_policy", f"{policy_file} has no Statement", "write an IAM policy document")
    pattern = raw.get("log_pattern")
    if pattern is not None:
        try:
            re.compile(str(pattern))
        except re.error as exc:
            raise check.fail("monitor.log_pattern", f"not a regular expression ({exc})", "fix the pattern") from None
    environment = {str(k): str(v) for k, v in dict(raw.get("environment", {})).items()}
    for name in environment:
        if name in RESERVED_ENVIRONMENT:
            raise check.fail(f"monitor.environment.{name}", "Lambda reserves this variable", "choose another name")
    check.placeholders("monitor.environment", environment, "the environment")
    if sum(len(k) + len(v) for k, v in environment.items()) > MAX_ENVIRONMENT_BYTES:
        raise check.fail("monitor.environment", "more than Lambda's 4 KB of variables", "shorten them")
    return MonitorDefinition(
        source=source,
        handler=handler,
        runtime=str(raw.get("runtime", DEFAULT_RUNTIME)),
        timeout_seconds=int(raw.get("timeout_seconds", DEFAULT_TIMEOUT_S)),
        role_policy=policy,
        role_policy_file=policy_file,
        log_pattern=str(pattern) if pattern is not None else None,
        environment=environment,
    )


def _backup(check: Checker, raw: dict[str, Any]) -> BackupDefinition:
    document = schema()
    plan_file = check.file("backup.plan", str(raw["plan"]))
    selection_file = check.file("backup.selection", str(raw["selection"]))
    plan = check.json_file("backup.plan", plan_file)
    plan = plan.get("BackupPlan", plan) if set(plan) == {"BackupPlan"} else plan  # --cli-input-json shape
    selection = check.json_file("backup.selection", selection_file)
    selection = selection.get("BackupSelection", selection) if set(selection) == {"BackupSelection"} else selection
    defs = {"$defs": document["$defs"]}
    check.validate(plan, {**defs, "$ref": "#/$defs/backup_plan"}, prefix=f"backup.plan ({plan_file.name})")
    check.validate(
        selection, {**defs, "$ref": "#/$defs/backup_selection"}, prefix=f"backup.selection ({selection_file.name})"
    )
    for number, rule in enumerate(plan["Rules"]):
        if rule["TargetBackupVaultName"] != "{vault_name}":
            raise check.fail(
                f"backup.plan ({plan_file.name}).Rules[{number}].TargetBackupVaultName",
                f"{rule['TargetBackupVaultName']!r} is not the drill's vault",
                'write "{vault_name}": drdrill creates one vault per drill',
            )
    if selection["IamRoleArn"] != "{backup_role_arn}":
        raise check.fail(
            f"backup.selection ({selection_file.name}).IamRoleArn",
            f"{selection['IamRoleArn']!r} is not the drill's backup role",
            'write "{backup_role_arn}": drdrill creates the role AWS Backup assumes',
        )
    return BackupDefinition(plan, selection, plan_file, selection_file)


def load_definition(path: str | Path) -> StackDefinition:
    """Read, validate and resolve ``path``; any problem is one ConfigError line (nothing has been created yet)."""
    file = Path(path)
    check = Checker(file)
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: no such stack definition file; check the path (relative to the feature file or cwd)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read the stack definition: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML ({exc}); fix the syntax") from None
    check.validate(document, schema())
    deployed = deployed_section(check, document)
    table = table_shape(check, document["table"]) if "table" in document else TableShape()
    items = document.get("items", {})
    sample_file = check.file("items.sample", str(items["sample"])) if "sample" in items else None
    sample = load_sample(sample_file, f"{file}: items.sample") if sample_file else []
    sample_fits(check, sample, table)
    return StackDefinition(
        path=file.resolve(),
        table=table,
        sample=tuple(sample),
        sample_file=sample_file,
        count=int(items.get("count", len(sample) or DEFAULT_COUNT)),
        monitor=_monitor(check, document["monitor"]) if "monitor" in document else None,
        backup=_backup(check, document["backup"]) if "backup" in document else None,
        deployed=deployed,
    )


def from_cloudformation(value: str, base: Path | None = None) -> StackDefinition:
    """A stack definition whose ``[deployed]`` parts come from the CloudFormation stack ``value`` names."""
    name = parse_stack_from(value)
    path = (base or Path.cwd()) / f"cloudformation:{name}"
    return StackDefinition(path=path, deployed=DeployedDefinition(table=None, cloudformation_stack=name))
