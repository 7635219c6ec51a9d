"""Gap-fillers patch moto through one helper: once per process, recorded, refused when moto's attribute is gone."""

from __future__ import annotations

import ast
import types
from pathlib import Path
from typing import Any

import pytest

from dr_infra.targets.embedded import moto_patch, patches
from dr_infra.targets.embedded.moto_patch import MotoInternalsChanged

EMBEDDED = Path(__file__).resolve().parents[2] / "dr_infra" / "targets" / "embedded"


class Service:
    """A stand-in for a moto class (the helper's own behaviour, without touching moto)."""

    def call(self) -> str:
        return "moto"


@pytest.fixture
def fresh() -> type[Service]:
    return type("Service", (Service,), {"__module__": "moto.fake.models"})


@pytest.fixture
def log() -> moto_patch.PatchLog:
    """A log of its own: the helper's behaviour over stand-in classes, moto's own log (MOTO) untouched."""
    return moto_patch.PatchLog()


def test_a_wrap_is_applied_once_and_recorded(fresh: type[Service], log: moto_patch.PatchLog) -> None:
    def wrapper(original: Any) -> Any:
        return lambda self: f"drdrill({original(self)})"

    assert log.wrap(fresh, "call", wrapper, by="gap.one") is True
    assert log.wrap(fresh, "call", wrapper, by="gap.one") is False  # a second install changes nothing
    assert fresh().call() == "drdrill(moto)"
    assert log.applied() == [moto_patch.Patch("moto.fake.models.Service.call", "wrap", "gap.one")]
    assert all(p.target != "moto.fake.models.Service.call" for p in moto_patch.applied())  # moto's log untouched


def test_two_gap_fillers_wraps_stack_in_install_order(fresh: type[Service], log: moto_patch.PatchLog) -> None:
    log.wrap(fresh, "call", lambda original: lambda self: f"a({original(self)})", by="gap.a")
    log.wrap(fresh, "call", lambda original: lambda self: f"b({original(self)})", by="gap.b")
    assert fresh().call() == "b(a(moto))"
    assert [p.by for p in log.applied()] == ["gap.a", "gap.b"]


def test_replacing_or_wrapping_what_moto_no_longer_has_is_refused_by_name(
    fresh: type[Service], log: moto_patch.PatchLog
) -> None:
    with pytest.raises(MotoInternalsChanged, match=r"moto internal moto\.fake\.models\.Service\.gone no longer exists"):
        log.replace(fresh, "gone", lambda self: None, by="gap.one")
    with pytest.raises(MotoInternalsChanged, match=r"gap\.two needs updating"):
        log.wrap(fresh, "gone", lambda original: original, by="gap.two")
    assert log.applied() == [] and not hasattr(fresh, "gone")


def test_add_and_once_are_recorded_and_run_once(fresh: type[Service], log: moto_patch.PatchLog) -> None:
    calls: list[int] = []
    module = types.ModuleType("moto.fake.urls")
    log.add(fresh, "new_handler", lambda self: "new", by="gap.one")
    log.once("moto.fake.urls.url_paths", lambda: calls.append(1), by="gap.one")
    log.once("moto.fake.urls.url_paths", lambda: calls.append(1), by="gap.one")
    log.add(module, "url_paths", {}, by="gap.one")
    assert fresh().new_handler() == "new" and calls == [1]  # type: ignore[attr-defined]
    assert [(p.target, p.kind) for p in log.applied()] == [
        ("moto.fake.models.Service.new_handler", "add"),
        ("moto.fake.urls.url_paths", "call"),
        ("moto.fake.urls.url_paths", "add"),
    ]


def test_the_embedded_targets_patches_are_all_recorded_by_their_gap_fillers() -> None:
    """After install_all, the record names moto's real internals and only gap-filler modules changed them."""
    patches.install_all()
    done = moto_patch.applied()
    assert {p.by for p in done} <= set(patches.GAP_FILLERS)
    targets = {p.target for p in done}
    assert "moto.dynamodb.responses.DynamoHandler.list_backups" in targets
    assert "moto.core.responses.BaseResponse.call_action" in targets
    assert all(p.target.startswith("moto.") or p.kind == "call" for p in done)
    patches.install_all()
    assert moto_patch.applied() == done  # a second install changes nothing


def test_no_gap_filler_keeps_an_installed_flag() -> None:
    """Idempotence is the helper's: a module-level ``_installed`` flag is a second, hand-kept copy of it."""
    flagged = []
    for path in sorted(EMBEDDED.glob("*.py")):
        if path.name == "patches.py":  # the one install_all guard (the whole set, once per process)
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if any(isinstance(t, ast.Name) and t.id == "_installed" for t in targets):
                flagged.append(path.name)
    assert not flagged, f"install through dr_infra.targets.embedded.moto_patch instead of a flag: {flagged}"
