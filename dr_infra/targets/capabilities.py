"""The capability vocabulary: what a target can run, so scenarios it cannot run are skipped with a reason.

One place for the names, because targets declare them and steps require them:

* ``dynamodb``, ``streams``, ``iam``, ``logs``: the service APIs answer.
* ``lambda``: functions and event source mappings can be created; ``lambda_execution``: they actually run.
* ``backup``: vaults and plans; ``backup_selections``: selections; ``backup_jobs``: backup jobs, recovery
  points and restore jobs.
* ``pitr``: point-in-time recovery settings; ``pitr_time_travel``: a restore really returns the table as it
  was at the requested time.
* ``events``: EventBridge delivers AWS Backup's "Restore Job State Change" events to functions.
* Embedded-only: ``restore_faults`` and ``function_faults`` (fault switches), ``latency_profiles``,
  ``fast_export`` (whole-table reads without paginated Scans), ``plan_clock`` (a backup plan's clock can be
  moved forward, so its scheduled runs happen in seconds).
"""

from __future__ import annotations

SERVICE_CAPABILITIES = frozenset(
    {
        "dynamodb",
        "streams",
        "lambda",
        "lambda_execution",
        "backup",
        "backup_selections",
        "backup_jobs",
        "pitr",
        "pitr_time_travel",
        "logs",
        "iam",
    }
)
"""What the full DR stack needs from the services themselves (real AWS has all of them)."""

AWS_CAPABILITIES = SERVICE_CAPABILITIES | {"events"}

EMBEDDED_ONLY = frozenset({"restore_faults", "function_faults", "latency_profiles", "fast_export", "plan_clock"})
"""What only drdrill's embedded target offers: chaos switches and a fast read path."""

EMBEDDED_CAPABILITIES = SERVICE_CAPABILITIES | EMBEDDED_ONLY
"""The embedded target: every service capability but EventBridge delivery, plus its own extras."""
