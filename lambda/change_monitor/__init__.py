"""drdrill's change monitor: a DynamoDB-stream Lambda that undoes harmful changes.

This package is zipped as-is (``change_monitor/`` at the zip root) and runs on the
plain Lambda Python runtime, so it imports only the standard library and
boto3/botocore, never ``dr_infra``.

Entry points (both in :mod:`change_monitor.handler`):

* ``change_monitor.handler.lambda_handler`` -- the stream consumer. Depending on
  ``DR_STRATEGY`` it starts one AWS Backup restore (``backup``), one
  point-in-time restore (``pitr``) per table per incident, or repairs items in
  place (``item``).
* ``change_monitor.handler.on_restore_completed`` -- turns a restored table into
  a protected one (stream, PITR, tags, monitor mapping).

Every decision is one JSON line on stdout; see :mod:`change_monitor.log` for the
schema the framework reads back from CloudWatch Logs.
"""
