"""No module-level mutable state in dr_infra beyond the listed per-process holders (issue 13).

State a module keeps between calls is state every test must reset by hand and every caller shares unseen. What
dr_infra does instead: an object passed in owns it (a :class:`~dr_infra.drill.state.Drill`, a session), or a scope
installs it and puts back what was there (:func:`dr_infra.drill.waits.observing`). What is left is per process by
nature (moto's backends are process-global, so the embedded target's additions to them are too; pytest runs one
session per process) and is listed in :data:`ALLOWED` with why and what resets it.

Mutable global, as this check reads it: a module-level name a function rebinds (``global NAME``); a module-level
container (list, dict, set literal, comprehension or constructor) that dr_infra mutates (a mutating method,
an item assignment or deletion, an augmented assignment), in its module or as ``module.NAME`` elsewhere; a
module-level instance of a dr_infra class that is not a frozen dataclass, or of ``threading.Event``,
or a ``ContextVar``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dr_infra"

CONTAINER_CALLS = {"dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "deque", "bytearray"}
CONTAINER_CALLS |= {"WeakKeyDictionary", "WeakValueDictionary", "WeakSet"}
STATE_CALLS = {"Event", "ContextVar"}  # a Lock or a Condition guards state; it holds none
MUTATORS = {"append", "extend", "insert", "add", "update", "pop", "popitem", "clear", "setdefault", "remove"}
MUTATORS |= {"discard", "appendleft", "popleft", "sort", "reverse", "set", "wait"}

# The per-process holders, each with why it is per process and what resets it. A new entry needs the same: say why
# no object or scope can own the state instead.
ALLOWED = {
    # -- scoped: only a context manager sets it and it puts back what was there --------------------------------
    "dr_infra.drill.waits:_observer": "waits.observing(): the run's progress observer (plugin: configure..unconfigure)",
    "dr_infra.stack.wait_report:_reporter": "wait_report.reporting(): the stack layer's wait reporter, as above",
    "dr_infra.bdd.session:_current": "session.running(): the running DrillSession (plugin: sessionstart..unconfigure)",
    # -- one pytest session per process ------------------------------------------------------------------------
    "dr_infra.interrupts:GUARD": "the SIGINT handler: a process has one; installed/uninstalled by the plugin",
    # -- the embedded target: moto's backends are process-global, so what drdrill adds to them is too -----------
    # Its switches and tuning (fault switches, throttle counts, settings, strict-credentials mode) are one record
    # with one reset; process_state.switches_scope() (in the server's process) and ControlClient.switches_scope()
    # (over the control routes, from any process) put back what was there when their block ends.
    "dr_infra.targets.embedded.process_state:SWITCHES": "switches and tuning of the one moto server; scoped",
    "dr_infra.targets.embedded.process_state:MOTO_ADDITIONS": "drdrill's additions to moto's resources (histories,"
    " mapping and function state, poller positions, log decisions), one typed key each; as long as moto's",
    # What is left is the process itself: its threads, child processes, servers, moto's patched classes, and the
    # caches of work done once per process. Each goes with what it belongs to (a thread when it stops, ...).
    "dr_infra.targets.embedded.changefeed:_listeners": "moto write hooks (stream records, history): process-wide",
    "dr_infra.targets.embedded.esm_poller:_endpoints": "servers the poller delivers for (one per process)",
    "dr_infra.targets.embedded.esm_poller:_supervisor": "the one poller thread",
    "dr_infra.targets.embedded.esm_state:_generation": "poller wake generation (with esm_state.wake_signal)",
    "dr_infra.targets.embedded.esm_state:running": "the poller thread runs",
    "dr_infra.targets.embedded.function_state:_original_invoke": "moto's invoke, kept by the patch that wraps it",
    "dr_infra.targets.embedded.lambda_runtime:_endpoints": "servers functions call back to",
    "dr_infra.targets.embedded.lambda_runtime:_pools": "warm function worker processes (a process's children)",
    "dr_infra.targets.embedded.lambda_spares:_spares": "pre-started worker processes",
    "dr_infra.targets.embedded.lambda_spares:_starting": "a spare being started",
    "dr_infra.targets.embedded.lambda_spares:_enabled": "spares on/off for this process",
    "dr_infra.targets.embedded.lambda_python_runtime:_folder": "the extracted runtime folder, once per process",
    "dr_infra.targets.embedded.ttl_sweeper:_endpoints": "servers the TTL sweeper deletes for",
    "dr_infra.targets.embedded.ttl_sweeper:_thread": "the one TTL sweeper thread",
    "dr_infra.targets.embedded.ttl_sweeper:_running": "the TTL sweeper thread runs",
    "dr_infra.targets.embedded.moto_patch:MOTO": "the PatchLog of moto's process-global classes (a test keeps its own)",
    "dr_infra.targets.embedded.patches:_installed": "all moto patches installed (moto's classes are per process)",
    "dr_infra.targets.embedded.gc_tuning:_done": "the interpreter's gc thresholds are set once per process",
    "dr_infra.targets.embedded.attribute_values_json:_CHECKED": "is a moto shape AttributeValue (once per shape)",
    "dr_infra.targets.embedded.action_lookup:_known": "a handler class's action names (per class and patch count)",
    "dr_infra.targets.embedded.aws_managed_policies:_parsed": "AWS managed policy documents parsed once (a cache)",
}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _callee(node: ast.expr) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _is_container(value: ast.expr) -> bool:
    literal = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
    return isinstance(value, literal) or _callee(value) in CONTAINER_CALLS


def _targets(node: ast.AST) -> list[ast.expr]:
    """What an assignment, deletion or augmented assignment writes to that is a mutation of something held."""
    if isinstance(node, ast.Assign | ast.Delete):
        return [t.value for t in node.targets if isinstance(t, ast.Subscript)]
    if isinstance(node, ast.AnnAssign):
        return [node.target.value] if isinstance(node.target, ast.Subscript) else []
    if isinstance(node, ast.AugAssign):
        return [node.target.value if isinstance(node.target, ast.Subscript) else node.target]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
        return [node.func.value]
    return []


def _mutated(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names mutated as ``NAME...``, attribute names mutated as ``something.NAME...``) in ``tree``."""
    targets = [target for node in ast.walk(tree) for target in _targets(node)]
    names = {t.id for t in targets if isinstance(t, ast.Name)}
    return names, {t.attr for t in targets if isinstance(t, ast.Attribute)}


def _classes(trees: Iterable[ast.Module]) -> dict[str, bool]:
    """Class name -> is it a frozen dataclass, for every top-level class of ``trees``."""
    return {
        node.name: any("frozen=True" in ast.unparse(d) for d in node.decorator_list)
        for tree in trees
        for node in tree.body
        if isinstance(node, ast.ClassDef)
    }


def _holders(module: str, tree: ast.Module, classes: dict[str, bool], mutated: set[str]) -> set[str]:
    """``module:NAME`` for each top-level name of ``tree`` holding state (see the module docstring)."""
    found = {f"{module}:{name}" for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names}
    for node in tree.body:
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        callee = _callee(node.value)
        stateful = callee in STATE_CALLS or (callee in classes and not classes[callee])
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in (t for t in targets if isinstance(t, ast.Name)):
            if stateful or (_is_container(node.value) and target.id in mutated):
                found.add(f"{module}:{target.id}")
    return found


def mutable_globals(sources: dict[str, str]) -> set[str]:
    """``module:NAME`` for every module-level mutable global in ``sources`` (module name -> source text)."""
    trees = {module: ast.parse(text, filename=module) for module, text in sources.items()}
    classes = _classes(trees.values())
    elsewhere = {name for tree in trees.values() for name in _mutated(tree)[1]}
    return {
        holder
        for module, tree in trees.items()
        for holder in _holders(module, tree, classes, _mutated(tree)[0] | elsewhere)
    }


def _package_sources() -> dict[str, str]:
    return {_module(path): path.read_text(encoding="utf-8") for path in sorted(PACKAGE.rglob("*.py"))}


def test_no_module_level_mutable_state_beyond_the_listed_per_process_holders() -> None:
    unlisted = sorted(mutable_globals(_package_sources()) - set(ALLOWED))
    assert unlisted == [], (
        "module-level mutable state: pass an owner in or scope it (a context manager that restores), "
        f"or list it in ALLOWED with why it is per process: {unlisted}"
    )


def test_the_allow_list_names_only_state_that_exists() -> None:
    """A holder that went (made owned or scoped) leaves the list, so the list stays the inventory."""
    assert sorted(set(ALLOWED) - mutable_globals(_package_sources())) == []


@pytest.mark.parametrize(
    "source",
    [
        "_seen = []\ndef note(x):\n    _seen.append(x)",
        "_cache = {}\ndef put(k, v):\n    _cache[k] = v",
        "_count = 0\ndef bump():\n    global _count\n    _count += 1",
        "ERRORS: list[str] = list()\ndef fail(e):\n    ERRORS.extend([e])",
        "import threading\n_running = threading.Event()",
        "class Registry:\n    pass\nREGISTRY = Registry()",
    ],
)
def test_the_check_finds_module_level_mutable_state(source: str) -> None:
    assert mutable_globals({"dr_infra.example": source})


def test_the_check_finds_a_global_mutated_from_another_module() -> None:
    found = mutable_globals({"dr_infra.a": "SWEEP = []", "dr_infra.b": "from dr_infra import a\na.SWEEP.append(1)"})
    assert found == {"dr_infra.a:SWEEP"}


def test_constants_frozen_values_and_locks_are_not_state() -> None:
    source = (
        "import threading\nfrom dataclasses import dataclass\n"
        "ROUTES = {'info': 1}\nNAMES = [n for n in 'ab']\n_lock = threading.Lock()\n"
        "@dataclass(frozen=True)\nclass Price:\n    usd: float\nPRICE = Price(1.0)\n"
        "def local():\n    seen = []\n    seen.append(1)\n    return seen\n"
    )
    assert mutable_globals({"dr_infra.example": source}) == set()


def test_a_finished_run_leaves_no_session_observer_or_reporter_behind(tmp_path: Path) -> None:
    """``drdrill run`` runs pytest in this process: what the run installed goes with it, and what was there
    before (an observer of the caller's own, the session of the process's own pytest run) is back, so a later run or
    library call never sees the finished run's session."""
    from dr_infra.app import cli
    from dr_infra.bdd import session as sessions
    from dr_infra.drill import waits
    from dr_infra.stack import wait_report

    class Mine:
        def poll(self, phase: str, probe: waits.Probe, elapsed: float) -> None: ...
        def finish(self, phase: str, probe: waits.Probe | None, elapsed: float, ok: bool) -> None: ...

    mine, before = Mine(), sessions.current()  # this test process's own drdrill session, if the plugin runs here
    argv = ["run", str(ROOT / "features" / "deletion"), "-k", "no_such_scenario", "--report-dir", str(tmp_path)]
    with waits.observing(mine):
        try:
            code = cli.main(argv)
        except SystemExit as exc:
            code = exc.code
        assert code == 2  # nothing selected: a usage error, after the plugin configured and started a session
        assert sessions.current() is before and waits._observer is mine and wait_report._reporter is None
