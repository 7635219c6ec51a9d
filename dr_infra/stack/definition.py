"""Load and validate a stack definition file (TOML): what "a DR-protected table" is for the user's system.

The keys (``[table]``, ``[items]``, ``[monitor]``, ``[backup]``) are a public contract, documented in
``definition.schema.json`` next to this module, which validates the file's structure (JSON Schema 2020-12). The
rules JSON Schema cannot say (a local secondary index needs a sort key, one type per attribute, files that must
exist, placeholders drdrill knows, the backup plan's vault) are checked after it. Every problem is found here,
before any resource is created, and reported as one line naming the file, the key and the fix
(:class:`~dr_infra.errors.ConfigError`, exit 2).
"""

from __future__ import annotations

import json
import re
import tomllib
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from dr_infra.errors import ConfigError
from dr_infra.stack import placeholders
from dr_infra.stack.sample_items import load_sample
from dr_infra.stack.table_shape import DEFAULT_SHAPE, KeyAttribute, SecondaryIndex, TableShape

SCHEMA_FILE = Path(__file__).with_name("definition.schema.json")
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
        }


@cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


def _key_path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


class _Checker:
    """Collects nothing: the first problem raises, so the user gets exactly one line to act on."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.parent

    def fail(self, key: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {problem}; {fix}")

    # -- structure -----------------------------------------------------------------------------------------
    def validate(self, document: Any, schema: dict[str, Any], prefix: str = "") -> None:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import best_match

        validator = Draft202012Validator(schema)
        error = best_match(validator.iter_errors(document))
        if error is None:
            return
        key = _key_path([*([prefix] if prefix else []), *error.absolute_path])
        fix = str(error.schema.get("description") or "") if isinstance(error.schema, dict) else ""
        if error.validator == "additionalProperties" and isinstance(error.schema, dict):
            known = ", ".join(sorted(error.schema.get("properties", {}))) or "none"
            fix = f"known keys here: {known}"
        elif error.validator == "required":
            missing = str(error.message).split("'")[1] if "'" in str(error.message) else ""
            sub = error.schema.get("properties", {}).get(missing, {}) if isinstance(error.schema, dict) else {}
            key = f"{key}.{missing}" if key != "(top level)" and missing else (missing or key)
            fix = str(sub.get("description") or fix)
        elif error.validator == "pattern" and error.path and error.schema.get("pattern") == "^[a-zA-Z][a-zA-Z0-9_]*$":
            fix = "environment names start with a letter and hold letters, digits and '_'"
        elif not fix and error.parent is not None and isinstance(error.parent.schema, dict):
            fix = str(error.parent.schema.get("description") or "")
        problem = str(error.message)
        if len(problem) > 160:
            problem = problem[:157] + "..."
        raise self.fail(key, problem, fix or "see the stack definition section of the README")

    def file(self, key: str, raw: str, *, kind: str = "file") -> Path:
        path = (self.base / raw).resolve()
        if kind == "file" and not path.is_file():
            raise self.fail(key, f"{raw!r} is not a file next to the definition ({path})", "fix the path")
        if kind == "source" and not (path.is_dir() or (path.is_file() and path.suffix == ".zip")):
            raise self.fail(key, f"{raw!r} is neither a folder nor a .zip file ({path})", "point it at the code")
        return path

    def json_file(self, key: str, path: Path) -> dict[str, Any]:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise self.fail(key, f"{path.name} is not valid JSON ({exc})", "write one JSON object") from None
        if not isinstance(document, dict):
            raise self.fail(key, f"{path.name} holds a JSON {type(document).__name__}", "write one JSON object")
        self.placeholders(key, document, path.name)
        return document

    def placeholders(self, key: str, value: Any, where: str) -> None:
        bad = placeholders.unknown(value)
        if bad:
            raise self.fail(
                key, f"{where} uses the unknown placeholder {{{bad[0]}}}", f"use one of {placeholders.hint()}"
            )


def _key(raw: dict[str, Any]) -> KeyAttribute:
    return KeyAttribute(str(raw["name"]), str(raw["type"]))


def _index(raw: dict[str, Any]) -> SecondaryIndex:
    projection = raw.get("projection", "ALL")
    return SecondaryIndex(
        name=str(raw["name"]),
        hash_key=_key(raw["hash_key"]),
        range_key=_key(raw["range_key"]) if "range_key" in raw else None,
        projection=tuple(projection) if isinstance(projection, list) else str(projection),
        read_capacity=raw.get("read_capacity"),
        write_capacity=raw.get("write_capacity"),
    )


def _table(check: _Checker, raw: dict[str, Any]) -> TableShape:
    shape = TableShape(
        hash_key=_key(raw["hash_key"]),
        range_key=_key(raw["range_key"]) if "range_key" in raw else None,
        billing_mode=str(raw.get("billing_mode", "PAY_PER_REQUEST")),
        read_capacity=raw.get("read_capacity"),
        write_capacity=raw.get("write_capacity"),
        ttl_attribute=raw.get("ttl_attribute"),
        global_secondary_indexes=tuple(_index(i) for i in raw.get("global_secondary_indexes", [])),
        local_secondary_indexes=tuple(_index(i) for i in raw.get("local_secondary_indexes", [])),
    )
    if shape.range_key is not None and shape.range_key.name == shape.hash_key.name:
        raise check.fail("table.range_key.name", "the sort key repeats the partition key", "name another attribute")
    provisioned = shape.billing_mode == "PROVISIONED"
    for which in ("read_capacity", "write_capacity"):
        if provisioned and raw.get(which) is None:
            raise check.fail(
                f"table.{which}", "PROVISIONED billing needs it", f"add {which} = 5 (or use PAY_PER_REQUEST)"
            )
        if not provisioned and raw.get(which) is not None:
            raise check.fail(
                f"table.{which}",
                "capacity is only for PROVISIONED tables",
                'remove it or set billing_mode = "PROVISIONED"',
            )
    types: dict[str, tuple[str, str]] = {shape.hash_key.name: (shape.hash_key.type, "table.hash_key")}
    if shape.range_key:
        types[shape.range_key.name] = (shape.range_key.type, "table.range_key")
    names: set[str] = set()
    for kind, indexes in (("global", shape.global_secondary_indexes), ("local", shape.local_secondary_indexes)):
        for number, index in enumerate(indexes):
            where = f"table.{kind}_secondary_indexes[{number}]"
            if index.name in names:
                raise check.fail(
                    f"{where}.name", f"index name {index.name!r} is used twice", "give each index its own name"
                )
            names.add(index.name)
            if kind == "local":
                if shape.range_key is None:
                    raise check.fail(
                        where, "a local secondary index needs a table with a range_key", "add table.range_key"
                    )
                if index.hash_key != shape.hash_key:
                    raise check.fail(
                        f"{where}.hash_key",
                        "a local secondary index shares the table's partition key",
                        f'use hash_key = {{ name = "{shape.hash_key.name}", type = "{shape.hash_key.type}" }}',
                    )
                if index.range_key is None:
                    raise check.fail(f"{where}.range_key", "a local secondary index needs a sort key", "add range_key")
            if (index.read_capacity or index.write_capacity) and not (provisioned and kind == "global"):
                raise check.fail(where, "index capacity is only for a PROVISIONED table's global indexes", "remove it")
            for part, key in (("hash_key", index.hash_key), ("range_key", index.range_key)):
                if key is None:
                    continue
                seen = types.setdefault(key.name, (key.type, f"{where}.{part}"))
                if seen[0] != key.type:
                    raise check.fail(
                        f"{where}.{part}.type",
                        f"{key.name!r} is {key.type} here but {seen[0]} in {seen[1]}",
                        "give an attribute one type everywhere",
                    )
    ttl = shape.ttl_attribute
    if ttl and ttl in types and types[ttl][0] != "N":
        raise check.fail("table.ttl_attribute", f"{ttl!r} is a {types[ttl][0]} key attribute", "TTL reads a Number")
    return shape


def _sample_fits(check: _Checker, items: list[dict[str, Any]], shape: TableShape) -> None:
    """Sample values of key attributes (table and indexes) must have the declared types, or DynamoDB refuses them."""
    for number, item in enumerate(items, 1):
        for name, type_ in shape.indexed_attributes().items():
            if name in item and next(iter(item[name])) != type_:
                raise check.fail(
                    "items.sample",
                    f"item {number} has {name!r} of type {next(iter(item[name]))}, but the table declares {type_}",
                    "fix the item or the key's type",
                )


def _handler_present(check: _Checker, source: Path, handler: str) -> None:
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


def _monitor(check: _Checker, raw: dict[str, Any]) -> MonitorDefinition:
    source = check.file("monitor.source", str(raw["source"]), kind="source")
    handler = str(raw["handler"])
    _handler_present(check, source, handler)
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


def _backup(check: _Checker, raw: dict[str, Any]) -> BackupDefinition:
    schema = _schema()
    plan_file = check.file("backup.plan", str(raw["plan"]))
    selection_file = check.file("backup.selection", str(raw["selection"]))
    plan = check.json_file("backup.plan", plan_file)
    plan = plan.get("BackupPlan", plan) if set(plan) == {"BackupPlan"} else plan  # --cli-input-json shape
    selection = check.json_file("backup.selection", selection_file)
    selection = selection.get("BackupSelection", selection) if set(selection) == {"BackupSelection"} else selection
    defs = {"$defs": schema["$defs"]}
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
    check = _Checker(file)
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
    check.validate(document, _schema())
    table = _table(check, document["table"]) if "table" in document else TableShape()
    items = document.get("items", {})
    sample_file = check.file("items.sample", str(items["sample"])) if "sample" in items else None
    sample = load_sample(sample_file, f"{file}: items.sample") if sample_file else []
    _sample_fits(check, sample, table)
    return StackDefinition(
        path=file.resolve(),
        table=table,
        sample=tuple(sample),
        sample_file=sample_file,
        count=int(items.get("count", len(sample) or DEFAULT_COUNT)),
        monitor=_monitor(check, document["monitor"]) if "monitor" in document else None,
        backup=_backup(check, document["backup"]) if "backup" in document else None,
    )
