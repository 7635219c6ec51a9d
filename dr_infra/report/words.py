"""The report's fixed words: verdicts, scenario statuses, guarantee titles and the glossary.

Kept apart from the view builder so the HTML, Markdown, terminal and junit renderers all say the same words, and
a wording change is one edit here.
"""

from __future__ import annotations

#: The run verdicts in words: (headline, explanation, css tone).
VERDICTS: dict[str, tuple[str, str, str]] = {
    "met": (
        "DR guarantees met",
        "Every scenario that ran recovered the data within its RTO and RPO targets.",
        "good",
    ),
    "violated": (
        "DR guarantees violated",
        "At least one scenario failed to recover the data, or missed its RTO or RPO target, "
        "or the drill left resources behind. See the red rows below.",
        "bad",
    ),
    "usage-error": (
        "Run not valid: usage or configuration error",
        "The drill could not run as asked (see Usage errors). Nothing below proves or disproves a guarantee.",
        "warn",
    ),
    "interrupted": (
        "Run interrupted: results incomplete",
        "The drill was stopped before it finished. Scenarios that did not finish prove nothing.",
        "warn",
    ),
    "not-measured": (
        "Nothing measured",
        "No scenario ran to completion (all were skipped), so no guarantee was proven or disproven.",
        "neutral",
    ),
    "running": (
        "Run still in progress",
        "This journal was written before the run finished.",
        "neutral",
    ),
}

#: Scenario statuses in words: (label, css tone).
SCENARIO_VERDICTS: dict[str, tuple[str, str]] = {
    "passed": ("Met", "good"),
    "failed": ("Violated", "bad"),
    "error": ("Error", "bad"),
    "skipped": ("Skipped", "neutral"),
    "interrupted": ("Interrupted", "warn"),
}

#: A passed scenario whose injected fault violated the RTO or RPO, as the scenario expected (evidence
#: ``expected_violation``): drdrill detected the violation, so the run is still met (exit 0).
EXPECTED_VIOLATION = ("Violation detected (expected)", "warn")
EXPECTED_VIOLATIONS_MET = (
    "Every scenario behaved as required. {count} scenario{s} injected a fault on purpose: the RTO or RPO was "
    "violated in those drills, as intended, and drdrill detected and reported it (marked "
    '"Violation detected (expected)").'
)

#: Guarantee folder names in words: (title, what it proves). Unknown folders get a title-cased name.
GUARANTEES: dict[str, tuple[str, str]] = {
    "deletion": ("Deleted items come back", "An accidental delete is detected and the items restored."),
    "modification": ("Overwritten items are repaired", "A harmful update is detected and undone."),
    "insertion": ("Unwanted inserts are handled", "Items written by mistake are detected and dealt with."),
    "bulk_deletion": ("Bulk deletion is recovered", "Many items deleted at once are all restored."),
    "table_loss": ("A lost table is recovered", "A deleted table is restored from a backup or PITR."),
    "idempotency": ("Recovery is idempotent", "Repeated or duplicate events never start a second restore."),
    "rpo": ("Recovery point objective", "Backups are recent enough that little data can be lost."),
    "plan_rpo": (
        "The backup plan's cadence bounds the RPO",
        "Restoring from the plan's own scheduled recovery points loses at most one plan interval of writes.",
    ),
    "posture": ("Stack posture", "The stack is configured the way the DR policy requires."),
    "restore_faults": ("Restore faults are handled", "Failing restores are reported and retried sensibly."),
}

GLOSSARY: list[tuple[str, str]] = [
    (
        "RTO (recovery time objective)",
        "How long recovery may take: from the harmful change until the data is verified back.",
    ),
    (
        "RPO (recovery point objective)",
        "How much recent data may be lost: the age of the newest backup or restore point used.",
    ),
    ("Phase", "One timed step of a recovery (detect, restore, verify ...); the RTO is their sum."),
    (
        "Strategy",
        "How data is recovered: backup (AWS Backup restore), pitr (point-in-time restore) "
        "or item (in-place repair of each harmed item from the stream's before-image).",
    ),
    ("Skipped", "The scenario did not run, usually because the target cannot do what it needs."),
]


def guarantee_title(name: str) -> str:
    """A guarantee folder name in words."""
    return GUARANTEES.get(name, (name.replace("_", " ").capitalize() or "Other", ""))[0]
