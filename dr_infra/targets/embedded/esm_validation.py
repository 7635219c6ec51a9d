"""CreateEventSourceMapping / UpdateEventSourceMapping parameter checks, with AWS's error codes and messages.

What AWS does (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html,
https://docs.aws.amazon.com/lambda/latest/api/API_UpdateEventSourceMapping.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html; error responses recorded on AWS in
LocalStack's ``tests/aws/services/lambda_/test_lambda_api.snapshot.json``):

* Values outside the API model's ranges are refused by the service's model validation with
  ``ValidationException`` and "N validation error(s) detected: Value 'X' at 'batchSize' failed to satisfy
  constraint: Member must have value less than or equal to 10000" (boto3 itself only checks minimums, so a
  too-large value reaches the service): BatchSize 1..10000, MaximumBatchingWindowInSeconds 0..300,
  ParallelizationFactor 1..10, MaximumRetryAttempts -1..10000, MaximumRecordAgeInSeconds -1..604800,
  TumblingWindowInSeconds 0..900, FunctionResponseTypes at most one of [ReportBatchItemFailures],
  StartingPosition one of [LATEST, AT_TIMESTAMP, TRIM_HORIZON]. A value of the wrong type (a string for an
  integer) is refused the same way (the wording "Member must be an integer" is drdrill's), never an HTTP 500.
* The service's own rules answer ``InvalidParameterValueException``: a stream source needs a
  ``StartingPosition`` ("Value null at 'startingPosition' ... Member must not be null."); DynamoDB Streams do
  not support ``AT_TIMESTAMP``; MaximumRecordAgeInSeconds is -1 (infinite) or 60..604800; the stream must
  exist ("Stream not found: ARN"); the function must exist ("Function does not exist"); ``OnSuccess``
  destinations are not supported for streams ("Unsupported DestinationConfig parameter for given event source
  mapping type."); an ``OnFailure`` destination is an SQS queue, SNS topic or S3 bucket ARN.
* The same function and stream mapped twice: ``ResourceConflictException`` (HTTP 409), "The event source arn
  (" ARN ") and function (" NAME ") provided mapping already exists. Please update or delete the existing
  mapping with UUID ...".

What is modelled: all of the above for DynamoDB stream sources (other sources get the model range checks
and the function check only). An ``OnFailure`` destination must also exist on the target (an SQS queue or
SNS topic; S3 destinations are refused as not modelled). Refused as not modelled
(``InvalidParameterValueException`` saying so):
``FilterCriteria`` and a non-zero ``TumblingWindowInSeconds`` on stream sources, which would change what is
delivered, and a ``ParallelizationFactor`` above 1 (AWS then processes up to that many batches of a shard
concurrently, in order per partition key; the embedded poller processes one batch per shard at a time, so such
a mapping would be slower here than on AWS, and a drill would measure the wrong thing).
The exact wording of the messages AWS does not document (MaximumRecordAgeInSeconds between 0 and
59, a missing destination) is drdrill's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from moto.awslambda.exceptions import LambdaClientError
from moto.dynamodb.models import dynamodb_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

HOOKED_INTERNALS: tuple[str, ...] = (
    "moto.dynamodb.models.dynamodb_backends",
    "moto.sqs.models.sqs_backends",
    "moto.sns.models.sns_backends",
)

RANGES: dict[str, tuple[str, int, int]] = {
    "BatchSize": ("batchSize", 1, 10_000),
    "MaximumBatchingWindowInSeconds": ("maximumBatchingWindowInSeconds", 0, 300),
    "ParallelizationFactor": ("parallelizationFactor", 1, 10),
    "MaximumRetryAttempts": ("maximumRetryAttempts", -1, 10_000),
    "MaximumRecordAgeInSeconds": ("maximumRecordAgeInSeconds", -1, 604_800),
    "TumblingWindowInSeconds": ("tumblingWindowInSeconds", 0, 900),
}
STARTING_POSITIONS = ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON")
RESPONSE_TYPES = ("ReportBatchItemFailures",)
NOT_MODELLED = "is not modelled by drdrill's embedded target"


class ValidationError(LambdaClientError):
    """The API model's constraint checks."""

    code = 400

    def __init__(self, problems: list[str]) -> None:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        super().__init__("ValidationException", f"{count} validation {noun} detected: " + "; ".join(problems))


class InvalidParameter(LambdaClientError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterValueException", message)


class MappingConflict(LambdaClientError):
    code = 409

    def __init__(self, stream_arn: str, function: str, uuid: str) -> None:
        super().__init__(
            "ResourceConflictException",
            f'The event source arn (" {stream_arn} ") and function (" {function} ") provided mapping already '
            f"exists. Please update or delete the existing mapping with UUID {uuid}",
        )


def is_dynamodb_stream(arn: str) -> bool:
    return ":dynamodb:" in arn and "/stream/" in arn


BOOLEANS = {"Enabled": "enabled", "BisectBatchOnFunctionError": "bisectBatchOnFunctionError"}


def _model_problems(spec: Mapping[str, Any]) -> list[str]:
    problems = []
    for key, member in BOOLEANS.items():
        value = spec.get(key)
        if value is not None and not isinstance(value, bool):
            problems.append(f"Value '{value}' at '{member}' failed to satisfy constraint: Member must be a boolean")
    for key, (member, low, high) in RANGES.items():
        value = spec.get(key)
        if value is not None and (problem := _range_problem(value, member, low, high)) is not None:
            problems.append(problem)
    position = spec.get("StartingPosition")
    if position is not None and position not in STARTING_POSITIONS:
        problems.append(
            f"Value '{position}' at 'startingPosition' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(STARTING_POSITIONS)}]"
        )
    types = spec.get("FunctionResponseTypes")
    if types is not None:
        problems += _response_type_problems(types)
    return problems


def _range_problem(value: Any, member: str, low: int, high: int) -> str | None:
    """An integer member's constraint message: not an integer, below ``low`` or above ``high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"Value '{value}' at '{member}' failed to satisfy constraint: Member must be an integer"
    if value < low:
        return (
            f"Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must have value greater than or equal to {low}"
        )
    if value > high:
        return (
            f"Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must have value less than or equal to {high}"
        )
    return None


def _response_type_problems(types: Any) -> list[str]:
    """``FunctionResponseTypes``: a list of at most one of :data:`RESPONSE_TYPES`."""
    if not isinstance(types, list):
        return [f"Value '{types}' at 'functionResponseTypes' failed to satisfy constraint: Member must be a list"]
    problems = []
    listed = list(types)
    if len(listed) > 1:
        problems.append(
            f"Value '[{', '.join(map(str, listed))}]' at 'functionResponseTypes' failed to satisfy constraint: "
            "Member must have length less than or equal to 1"
        )
    if any(t not in RESPONSE_TYPES for t in listed):
        problems.append(
            f"Value '[{', '.join(map(str, listed))}]' at 'functionResponseTypes' failed to satisfy constraint: "
            f"Member must satisfy constraint: [Member must satisfy enum value set: [{', '.join(RESPONSE_TYPES)}]]"
        )
    return problems


def _destination_exists(arn: str) -> bool:
    parts = arn.split(":")
    if len(parts) < 6:
        return False
    service, region, account = parts[2], parts[3], parts[4]
    if service == "sqs":
        queues = sqs_backends[account][region].queues
        return any(q.queue_arn == arn for q in list(queues.values()))
    if service == "sns":
        return arn in sns_backends[account][region].topics
    return False


def _check_destination(config: Any) -> None:
    if config is None:
        return
    if not isinstance(config, Mapping):
        raise InvalidParameter("DestinationConfig must be an object with an OnFailure destination.")
    if config.get("OnSuccess"):
        raise InvalidParameter("Unsupported DestinationConfig parameter for given event source mapping type.")
    destination = (config.get("OnFailure") or {}).get("Destination")
    if not destination:
        return
    service = destination.split(":")[2] if destination.count(":") >= 5 else ""
    if service == "s3":
        raise InvalidParameter(f"An S3 OnFailure destination {NOT_MODELLED}; use an SQS queue or SNS topic ARN.")
    if service not in {"sqs", "sns"}:
        raise InvalidParameter(
            f"The OnFailure destination {destination} is not an SQS queue, SNS topic or S3 bucket ARN."
        )
    if not _destination_exists(destination):
        raise InvalidParameter(f"The OnFailure destination {destination} does not exist.")


def _check_stream_rules(spec: Mapping[str, Any], creating: bool) -> None:
    age = spec.get("MaximumRecordAgeInSeconds")
    if isinstance(age, int) and not isinstance(age, bool) and 0 <= age < 60:
        raise InvalidParameter(
            f"MaximumRecordAgeInSeconds {age} is not allowed: use -1 (infinite) or 60 to 604800 seconds."
        )
    if spec.get("FilterCriteria"):
        raise InvalidParameter(f"FilterCriteria {NOT_MODELLED}.")
    if spec.get("TumblingWindowInSeconds"):
        raise InvalidParameter(f"TumblingWindowInSeconds {NOT_MODELLED}.")
    factor = spec.get("ParallelizationFactor")
    if isinstance(factor, int) and not isinstance(factor, bool) and factor > 1:
        raise InvalidParameter(
            f"ParallelizationFactor {factor} {NOT_MODELLED} (it processes one batch per shard at a time); "
            "use 1, or run it against AWS."
        )
    _check_destination(spec.get("DestinationConfig"))
    if not creating:
        return
    position = spec.get("StartingPosition")
    if not position:
        raise InvalidParameter(
            "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: "
            "Member must not be null."
        )
    if position == "AT_TIMESTAMP":
        raise InvalidParameter(f"Unsupported starting position for arn type: {spec['EventSourceArn']}")


def _stream_exists(arn: str) -> bool:
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("table/"):
        return False
    _, _, _, region, account, resource = parts
    name, _, label = resource[len("table/") :].partition("/stream/")
    table = dynamodb_backends[account][region].tables.get(name)
    return table is not None and bool(table.stream_specification) and table.latest_stream_label == label


def check_create(spec: Mapping[str, Any], function_exists: Callable[[], bool] = lambda: True) -> None:
    """Refuse a CreateEventSourceMapping request AWS would refuse (before moto sees it), in AWS's order: the
    model's ranges, the event source, the function (``function_exists``), the stream's rules and existence."""
    problems = _model_problems(spec)
    if problems:
        raise ValidationError(problems)
    arn = str(spec.get("EventSourceArn") or "")
    if not arn:
        raise InvalidParameter("Unrecognized event source.")
    if not function_exists():
        raise InvalidParameter("Function does not exist")
    if not is_dynamodb_stream(arn):
        return
    _check_stream_rules(spec, creating=True)
    if not _stream_exists(arn):
        raise InvalidParameter(f"Stream not found: {arn}")


def check_update(spec: Mapping[str, Any], event_source_arn: str) -> None:
    """Refuse an UpdateEventSourceMapping request AWS would refuse."""
    problems = _model_problems(spec)
    if problems:
        raise ValidationError(problems)
    if is_dynamodb_stream(event_source_arn):
        _check_stream_rules(spec, creating=False)


def check_duplicate(mappings: Iterable[Any], stream_arn: str, function_arn: str, function_name: str) -> None:
    """One mapping per (stream, function)."""
    for esm in mappings:
        if esm.event_source_arn == stream_arn and esm.function_arn == function_arn:
            raise MappingConflict(stream_arn, function_name, esm.uuid)
