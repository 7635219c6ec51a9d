"""Arming the change monitor so it cannot miss the harmful change: stream on, mapping at TRIM_HORIZON, Enabled.

Why this order, on AWS: a new event source mapping is ``Creating`` for a while and "Lambda can take several
minutes to start polling" (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html); a
mapping at ``LATEST`` reads from the tip of the shard as it is when polling starts
(https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html), so a change made soon after attaching at LATEST can
be skipped and the drill would report a false "never detected". Instead the table's stream is enabled only now,
after the seeding (UpdateTable ``StreamSpecification``, https://docs.aws.amazon.com/amazondynamodb/latest/
developerguide/Streams.html: a new stream holds only writes made after it was enabled), and the mapping reads it
from ``TRIM_HORIZON``: every record of the new stream is delivered, whenever polling starts, and none of the seed
INSERTs is (they predate the stream). The drill still waits until the stream is ``ENABLED`` and the mapping
``Enabled`` (tenacity) so the measured RTO does not include the mapping's start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError
from tenacity import Retrying, retry_if_exception, retry_if_result, stop_before_delay, wait_exponential

from dr_infra.errors import DrDrillError
from dr_infra.stack import wait_report

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_lambda import LambdaClient

STREAM_VIEW_TYPE: Final = "NEW_AND_OLD_IMAGES"
STARTING_POSITION: Final = "TRIM_HORIZON"
MAPPING_START_TIMEOUT_S = 900.0
"""How long to wait for a new mapping to become Enabled (AWS: minutes; undocumented upper bound)."""
STREAM_ENABLE_TIMEOUT_S = 300.0


class NotArmed(DrDrillError):
    """The stream or the mapping did not become ready in time."""


def _until(check: Any, timeout: float, what: str, max_interval: float = 2.0) -> Any:
    """Poll ``check`` (returns a truthy value when done) with tenacity, stopping before ``timeout`` is crossed.

    ``max_interval`` caps the backoff at the target's pace (``Target.max_poll_interval``): on a fast target an
    uncapped backoff would notice a 0.3 s transition only after 0.35 s of sleeps, and each wait adds up."""

    def give_up(state: Any) -> None:
        raise NotArmed(f"{what} did not happen within {timeout:.0f} s")

    wait = wait_report.Wait(what)  # minutes on AWS: said on drdrill run's progress lines (heartbeat included)
    result = Retrying(
        retry=retry_if_result(lambda value: not value),
        wait=wait_exponential(multiplier=0.05, max=max(0.05, max_interval)),
        stop=stop_before_delay(timeout),
        retry_error_callback=give_up,
        before_sleep=lambda state: wait.tick("not yet"),
    )(check)
    wait.done("done")
    return result


def enable_stream(
    dynamodb: DynamoDBClient,
    streams: DynamoDBStreamsClient,
    table: str,
    timeout: float = STREAM_ENABLE_TIMEOUT_S,
    max_interval: float = 2.0,
) -> str:
    """Turn the table's NEW_AND_OLD_IMAGES stream on (if it is off) and wait until it is ENABLED; its ARN."""
    description = dynamodb.describe_table(TableName=table)["Table"]
    spec: dict[str, Any] = dict(description.get("StreamSpecification") or {})
    if not spec.get("StreamEnabled"):
        description = dynamodb.update_table(
            TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE}
        )["TableDescription"]
    elif spec.get("StreamViewType") != STREAM_VIEW_TYPE:
        raise NotArmed(
            f"table {table} already has a {spec.get('StreamViewType')} stream; drdrill needs {STREAM_VIEW_TYPE}"
        )
    stream_arn = str(description["LatestStreamArn"])

    def ready() -> bool:
        table_status = dynamodb.describe_table(TableName=table)["Table"].get("TableStatus")
        status = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"].get("StreamStatus")
        return bool(table_status == "ACTIVE" and status == "ENABLED")

    _until(ready, timeout, f"the stream of {table} becoming ENABLED", max_interval)
    return stream_arn


def _mapping_in_use(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ResourceInUseException"


def wait_mapping_state(
    lam: LambdaClient, uuid: str, wanted: str, timeout: float = MAPPING_START_TIMEOUT_S, max_interval: float = 2.0
) -> dict[str, Any]:
    """Wait until the mapping's State is ``wanted`` (e.g. Enabled after Creating); its configuration."""

    def settled() -> dict[str, Any] | None:
        config: dict[str, Any] = dict(lam.get_event_source_mapping(UUID=uuid))
        return config if config.get("State") == wanted else None

    result: dict[str, Any] = _until(settled, timeout, f"event source mapping {uuid} becoming {wanted}", max_interval)
    return result


def _mapping_state(lam: LambdaClient, uuid: str) -> str | None:
    """The mapping's State, ``None`` once it no longer exists."""
    try:
        return str(lam.get_event_source_mapping(UUID=uuid).get("State"))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise


def delete_mapping(
    lam: LambdaClient, uuid: str, timeout: float = MAPPING_START_TIMEOUT_S, max_interval: float = 2.0
) -> None:
    """Delete a mapping and wait until it is gone: AWS refuses the delete with ResourceInUseException while the
    mapping is still changing (retried), answers it ``Deleting``, and lists it as ``Deleting`` for a while
    (https://docs.aws.amazon.com/lambda/latest/api/API_DeleteEventSourceMapping.html), so "removed" is claimed
    only once GetEventSourceMapping no longer finds it. A mapping already ``Deleting`` or gone is not deleted
    again."""
    if _mapping_state(lam, uuid) not in (None, "Deleting"):
        try:
            Retrying(
                retry=retry_if_exception(_mapping_in_use),
                wait=wait_exponential(multiplier=0.1, max=5.0),
                stop=stop_before_delay(timeout),
                reraise=True,
            )(lambda: lam.delete_event_source_mapping(UUID=uuid))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
    _until(lambda: _mapping_state(lam, uuid) is None, timeout, f"event source mapping {uuid} deleted", max_interval)
