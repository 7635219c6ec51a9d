"""The report's opening: an executive summary, the sign-off block and, on emulated targets, what a simulation proves.

Why: the person who signs a DR report reads its first screen and its sign-off block, not 30 evidence sections. They
need the result in a sentence, the scope (which guarantees, how many drills, from which commit of the scenarios),
who ran it and where, against which policy version, and, when the target was not AWS, a plain statement that the
run was a simulation and what that can and cannot prove. Everything here is read from the journal alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dr_infra.report.fmt import fmt_seconds
from dr_infra.report.model import ReportView

#: What a run on an emulated target proves and does not prove, per target name.
SIMULATIONS: dict[str, tuple[str, str, str]] = {
    "embedded": (
        "This was a simulation on drdrill's embedded target (moto 5.2.5 and drdrill's gap-fillers, in one process "
        "on the machine that ran it), not on AWS.",
        "the change monitor's code, the stack definition and its IAM policies recover the data as required "
        "against a model of AWS, the recovered data equals the data before the change, and drdrill detects a "
        "violated RTO or RPO.",
        "that your AWS account's stack recovers, nor anything about real timings: embedded "
        "restores take seconds, AWS Backup and point-in-time restores take 20 minutes or more. The RTO and RPO "
        "figures below are the simulation's. Run the drill with --target aws on a staging account to prove them.",
    ),
    "localstack": (
        "This was a simulation on LocalStack, an emulator of AWS, not on AWS.",
        "the stack, the change monitor and its configuration recover the data against LocalStack's model of the "
        "services, and drdrill detects a violated RTO or RPO.",
        "that your AWS account's stack recovers, nor real AWS timings, permissions or quotas. "
        "Scenarios the instance could not run are skipped and prove nothing. Run the drill with --target aws on a "
        "staging account to prove the guarantees.",
    ),
}


@dataclass(frozen=True)
class SignOff:
    """The facts a reviewer signs: (label, value) rows, and the simulation statement when there is one."""

    rows: list[tuple[str, str]]
    simulation: tuple[str, str, str] | None
    ci_url: str | None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def simulation(target_name: str) -> tuple[str, str, str] | None:
    """(what it was, what it proves, what it does not prove) for an emulated target; ``None`` for AWS.

    The second and third are completions of "It proves ..." and "It does not prove ..."."""
    if target_name == "aws":
        return None
    return SIMULATIONS.get(
        target_name,
        (
            f"This run used the target {target_name!r}, which is not AWS.",
            "the drill's logic against that target only.",
            "that your AWS account's stack recovers, nor real AWS timings.",
        ),
    )


def sign_off(view: ReportView, data: Mapping[str, Any]) -> SignOff:
    """The sign-off block of a journal: result, scope, who, where, policy version, scenarios' origin, integrity."""
    provenance = _mapping(data.get("provenance"))
    git, ci = _mapping(provenance.get("git")), _mapping(provenance.get("ci"))
    policy, target = _mapping(data.get("policy")), _mapping(data.get("target"))
    guarantees = ", ".join(g.title for g in view.guarantees) or "none"
    scope = f"{view.counts.get('total', 0)} scenarios of {len(view.guarantees)} guarantees: {guarantees}"
    who = str(target.get("caller_arn") or "unknown (no STS identity recorded)")
    if ci.get("actor"):
        who += f"; triggered by {ci['actor']}"
    where = view.target_label
    if target.get("account_id"):
        where += f", account {target['account_id']}"
    if ci.get("provider"):
        where += f", in {ci['provider']}" + (f" ({ci['event']})" if ci.get("event") else "")
    sha = str(policy.get("sha256") or "")
    policy_text = str(policy.get("path") or policy.get("source") or "not recorded")
    policy_text += f", SHA-256 {sha}" if sha else ", no digest recorded"
    if git.get("commit"):
        features = f"commit {git['commit']}" + (f" of {git['repository']}" if git.get("repository") else "")
        features += " (with uncommitted changes to the features)" if git.get("dirty") else ""
    else:
        features = "not in a git repository"
    rows = [
        ("Result", f"{view.headline}: {view.counts_line}"),
        ("Scope", scope),
        ("Run by", who),
        ("Where", where),
        ("When", f"{view.started} to {view.finished} ({view.duration})"),
        ("DR policy", policy_text),
        ("Scenarios from", features),
        ("Command", " ".join(view.argv) or "not recorded"),
        ("drdrill", f"{view.version}, journal schema {view.schema}, run {view.run_id}"),
        ("Integrity", "every file of this report is listed with its SHA-256 in SHA256SUMS: drdrill verify FOLDER"),
    ]
    return SignOff(rows, simulation(str(target.get("name") or "")), str(ci["run_url"]) if ci.get("run_url") else None)


def executive_summary(view: ReportView) -> list[str]:
    """Three to five sentences: the result, the closest call against a target, and what was not measured."""
    out = [f"{view.headline} on {view.target_label}: {view.counts_line}."]
    ran = [s for s in view.scenarios if s.status != "skipped"]
    margins = []
    for s in ran:
        for kind in ("rto", "rpo"):
            m = getattr(s, kind)
            if m.measured_s is not None and m.target_s:
                margins.append((m.measured_s / m.target_s, kind, s, m))
    unexpected = [item for item in margins if item[0] > 1 and item[1] not in item[2].expected_measures]
    if unexpected:
        share, kind, s, m = max(unexpected, key=lambda item: item[0])
        out.append(
            f"The worst miss: {s.name!r} took {m.measured} against a {kind.upper()} target of {m.target} "
            f"({share * 100:.0f} %)."
        )
    within = [item for item in margins if item[0] <= 1]
    if within:
        share, kind, s, m = max(within, key=lambda item: item[0])
        out.append(
            f"The closest call within target: {s.name!r}, {kind.upper()} {m.measured} of {m.target} "
            f"({share * 100:.0f} % of the target)."
        )
    expected = [s for s in view.scenarios if s.expected_violation]
    if expected:
        out.append(
            f"{len(expected)} scenario{'s' if len(expected) != 1 else ''} broke the restore path on purpose; "
            "drdrill detected each violation, as required."
        )
    if view.skipped:
        out.append(
            f"{len(view.skipped)} scenario{'s were' if len(view.skipped) != 1 else ' was'} skipped and prove nothing."
        )
    if view.leaks:
        out.append(f"The drill left {len(view.leaks)} resource(s) behind (see Leaked resources).")
    slowest = max((s.rto.measured_s for s in ran if s.rto.measured_s is not None), default=None)
    if slowest is not None:
        out.append(f"The slowest recovery took {fmt_seconds(slowest)}.")
    return out
