"""Steps are thin (issue 13): no step module calls an AWS client; the calls live in dr_infra (drill, verify, stack).

A step may hand ``drill.client(...)`` to a dr_infra function; it may not call a method of it, of a name bound to
it, or import boto3/botocore itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

STEPS = Path(__file__).resolve().parents[2] / "steps"


def client_calls(source: str, filename: str = "<step>") -> list[str]:
    """``line: call`` for every AWS client method call (and boto3/botocore import) in ``source``."""
    tree = ast.parse(source, filename=filename)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{node.lineno}: import {m}" for m in modules if m.split(".")[0] in {"boto3", "botocore"}]
    clients = _client_names(tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = node.func.value
        if _is_client_call(receiver) or (isinstance(receiver, ast.Name) and receiver.id in clients):
            found.append(f"{node.lineno}: {ast.unparse(node.func)}(...)")
    return found


def _is_client_call(node: ast.expr) -> bool:
    """``anything.client(...)`` (``drill.client("dynamodb")``, ``boto3.client(...)``, ``target.client(...)``)."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "client"


def _client_names(tree: ast.AST) -> set[str]:
    """Names bound to a client anywhere in the module (``lam = drill.client("lambda")``, tuple targets too)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        if value is None:
            continue
        for target in targets:
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
                pairs = list(zip(target.elts, value.elts, strict=False))
            else:
                pairs = [(target, value)]
            names |= {t.id for t, v in pairs if isinstance(t, ast.Name) and _is_client_call(v)}
    return names


@pytest.mark.parametrize("module", sorted(STEPS.glob("*.py")), ids=lambda path: path.name)
def test_no_step_module_calls_an_aws_client(module: Path) -> None:
    assert client_calls(module.read_text(encoding="utf-8"), str(module)) == []


@pytest.mark.parametrize(
    "source",
    [
        'drill.client("dynamodb").delete_table(TableName=t)',
        'lam = drill.client("lambda")\nlam.get_event_source_mapping(UUID=u)',
        'logs, lam = drill.client("logs"), drill.client("lambda")\ndef probe():\n    return lam.get_function(F=f)',
        "import boto3",
        "from botocore.exceptions import ClientError",
    ],
)
def test_the_check_finds_a_client_call(source: str) -> None:
    assert client_calls(source)


def test_handing_a_client_to_a_dr_infra_function_is_not_a_call() -> None:
    assert (
        client_calls('inject.seed(drill.client("dynamodb"), drill.table, oracle, 3)\nx = drill.require_stack()') == []
    )
