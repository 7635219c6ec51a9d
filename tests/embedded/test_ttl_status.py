"""Time to Live changes are ENABLING first and once an hour, as on AWS (black box, plain boto3)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from restore_helpers import create_table, wait_for

from dr_infra.targets.embedded import EmbeddedTarget

SPEC = {"Enabled": True, "AttributeName": "expires"}


def _status(ddb: Any, table: str) -> str:
    return str(ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]["TimeToLiveStatus"])


def test_ttl_is_enabling_then_enabled(embedded: EmbeddedTarget, unique: str) -> None:
    ddb = embedded.client("dynamodb")
    table = f"ttl-{unique}"
    create_table(ddb, table)
    assert _status(ddb, table) == "DISABLED"
    answered = ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=SPEC)
    assert answered["TimeToLiveSpecification"] == SPEC
    assert _status(ddb, table) == "ENABLING"
    wait_for(lambda: _status(ddb, table), lambda s: s == "ENABLED")
    description = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert description == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}


def test_a_second_change_within_the_hour_is_refused_and_changes_nothing(embedded: EmbeddedTarget, unique: str) -> None:
    ddb = embedded.client("dynamodb")
    table = f"ttl-twice-{unique}"
    create_table(ddb, table)
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=SPEC)
    wait_for(lambda: _status(ddb, table), lambda s: s == "ENABLED")
    with pytest.raises(ClientError) as refused:
        ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
    error = refused.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationException", 400)
    assert error["Error"]["Message"] == "Time to live has been modified multiple times within a fixed interval"
    assert _status(ddb, table) == "ENABLED"


def test_nothing_expires_while_ttl_is_enabling(embedded: EmbeddedTarget, unique: str) -> None:
    """aws-scaled at scale 0.001: the hour is 3.6 s of ENABLING; expired items are deleted only after it."""
    assert embedded.control is not None
    ddb = embedded.client("dynamodb")
    table = f"ttl-enabling-{unique}"
    create_table(ddb, table)
    embedded.control.update_settings(latency_profile="aws-scaled", scale=0.001, ttl_delete_delay_seconds=0)
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}, "expires": {"N": str(int(time.time()) - 3600)}})
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification=SPEC)
    enabled_by = time.monotonic() + 3.6
    time.sleep(1.0)  # several sweeps of a zero-delay sweeper
    assert _status(ddb, table) == "ENABLING"
    assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "old"}}, ConsistentRead=True)
    wait_for(lambda: "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "old"}}), lambda there: not there,
             timeout=20)  # fmt: skip
    assert time.monotonic() >= enabled_by - 0.05
    assert _status(ddb, table) == "ENABLED"
