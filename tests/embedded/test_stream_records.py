"""DynamoDB Streams records on the embedded target, read back with boto3's dynamodbstreams client.

AWS: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html (no record for a write that
changes nothing, one record per item changed), https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/
API_streams_Record.html (eventVersion 1.1, awsRegion, userIdentity), API_streams_StreamRecord.html (SizeBytes; the
figures below are those LocalStack recorded on AWS in tests/aws/services/dynamodbstreams/
test_dynamodb_streams.snapshot.json), https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
howitworks-ttl.html (TTL deletions).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from lambda_stack import wait_for

from dr_infra.targets.embedded import EmbeddedTarget
from dr_infra.targets.embedded.target import fake_session


class Streamed:
    def __init__(self, target: EmbeddedTarget, unique: str, region: str | None = None, key: str = "id") -> None:
        if region:
            session = fake_session(region)
            self.ddb = session.client("dynamodb", endpoint_url=target.endpoint_url)
            self.streams = session.client("dynamodbstreams", endpoint_url=target.endpoint_url)
        else:
            self.ddb, self.streams = target.client("dynamodb"), target.client("dynamodbstreams")
        self.table = f"records-{unique}"
        self.arn = self.ddb.create_table(
            TableName=self.table,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        self.ddb.get_waiter("table_exists").wait(TableName=self.table, WaiterConfig={"Delay": 1})

    def records(self) -> list[dict[str, Any]]:
        shard = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        return list(self.streams.get_records(ShardIterator=iterator)["Records"])

    def names(self) -> list[str]:
        return [r["eventName"] for r in self.records()]


def test_a_write_that_changes_nothing_writes_no_record(embedded: EmbeddedTarget, unique: str) -> None:
    s = Streamed(embedded, unique)
    item = {"id": {"S": "a"}, "v": {"N": "1"}}
    s.ddb.put_item(TableName=s.table, Item=item)
    s.ddb.put_item(TableName=s.table, Item=item)
    s.ddb.update_item(
        TableName=s.table,
        Key={"id": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "1"}},
    )
    assert s.names() == ["INSERT"]
    s.ddb.put_item(TableName=s.table, Item={**item, "v": {"N": "2"}})  # a real change still writes one
    assert s.names() == ["INSERT", "MODIFY"]


def test_every_write_writes_one_record_per_item_changed(embedded: EmbeddedTarget, unique: str) -> None:
    s = Streamed(embedded, unique)
    s.ddb.update_item(
        TableName=s.table,
        Key={"id": {"S": "new"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "1"}},
    )
    assert s.names() == ["INSERT"]
    assert s.records()[0]["dynamodb"]["NewImage"] == {"id": {"S": "new"}, "v": {"N": "1"}}
    s.ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": s.table, "Item": {"id": {"S": "t1"}}}},
            {"Update": {"TableName": s.table, "Key": {"id": {"S": "t2"}}, "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"N": "2"}}}},
            {"Delete": {"TableName": s.table, "Key": {"id": {"S": "new"}}}},
        ]
    )  # fmt: skip
    assert s.names()[1:] == ["INSERT", "INSERT", "REMOVE"]
    s.ddb.batch_write_item(
        RequestItems={
            s.table: [{"PutRequest": {"Item": {"id": {"S": f"b{i}"}}}} for i in range(3)]
            + [{"DeleteRequest": {"Key": {"id": {"S": "t1"}}}}]
        }
    )
    assert s.names()[4:] == ["INSERT", "INSERT", "INSERT", "REMOVE"]


@pytest.mark.parametrize(
    ("item", "old", "size"),
    [
        ({"id": {"S": "test"}}, None, 12),
        ({"id": {"S": "NewKey"}, "attr1": {"S": "value1"}, "attr2": {"S": "value2"}}, {"id": {"S": "NewKey"}}, 46),
        ({"id": {"S": "id_value_1"}, "numericFilter": {"N": "42"}}, None, 39),
    ],
)
def test_records_carry_aws_version_region_and_size(
    embedded: EmbeddedTarget, unique: str, item: dict[str, Any], old: dict[str, Any] | None, size: int
) -> None:
    s = Streamed(embedded, unique, region="eu-west-1")
    if old is not None:
        s.ddb.put_item(TableName=s.table, Item=old)
    s.ddb.put_item(TableName=s.table, Item=item)
    record = s.records()[-1]
    assert record["eventVersion"] == "1.1"
    assert record["awsRegion"] == "eu-west-1"
    assert record["dynamodb"]["SizeBytes"] == size
    assert "userIdentity" not in record  # a caller's write


def test_a_binary_and_a_boolean_are_sized_as_aws_sizes_them(embedded: EmbeddedTarget, unique: str) -> None:
    s = Streamed(embedded, unique, key="my_partition_key")
    s.ddb.put_item(TableName=s.table, Item={"my_partition_key": {"S": "hello world"}, "binary_key": {"B": b"foobar"}})
    s.ddb.put_item(TableName=s.table, Item={"my_partition_key": {"S": "testId0"}, "should_fail": {"BOOL": False}})
    assert [r["dynamodb"]["SizeBytes"] for r in s.records()] == [70, 58]


def test_expired_items_are_deleted_by_the_service_within_the_delay(embedded: EmbeddedTarget, unique: str) -> None:
    s = Streamed(embedded, unique)
    s.ddb.update_time_to_live(TableName=s.table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    now = int(time.time())
    s.ddb.put_item(TableName=s.table, Item={"id": {"S": "expired"}, "expires": {"N": str(now - 10)}})
    s.ddb.put_item(TableName=s.table, Item={"id": {"S": "future"}, "expires": {"N": str(now + 3600)}})
    s.ddb.put_item(TableName=s.table, Item={"id": {"S": "ancient"}, "expires": {"N": str(now - 6 * 365 * 86400)}})
    s.ddb.put_item(TableName=s.table, Item={"id": {"S": "text"}, "expires": {"S": "yesterday"}})
    s.ddb.put_item(TableName=s.table, Item={"id": {"S": "none"}})
    started = time.monotonic()
    wait_for(lambda: "REMOVE" in s.names(), timeout=20, what="the TTL deletion")
    assert time.monotonic() - started <= 1.0 + 1.0 + 2.0  # delay (1 s) + one sweep + slack for a loaded machine
    removes = [r for r in s.records() if r["eventName"] == "REMOVE"]
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in removes] == ["expired"]
    assert removes[0]["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    assert removes[0]["dynamodb"]["OldImage"]["expires"] == {"N": str(now - 10)}
    time.sleep(1.5)
    left = {i["id"]["S"] for i in s.ddb.scan(TableName=s.table)["Items"]}
    assert left == {"future", "ancient", "text", "none"}  # not expired, older than 5 years, not a Number, no TTL
    # A caller's own delete is not the service's.
    s.ddb.delete_item(TableName=s.table, Key={"id": {"S": "future"}})
    assert "userIdentity" not in s.records()[-1]


def test_ttl_deletes_nothing_when_it_is_not_enabled(embedded: EmbeddedTarget, unique: str) -> None:
    s = Streamed(embedded, unique)
    s.ddb.put_item(TableName=s.table, Item={"id": {"S": "expired"}, "expires": {"N": str(int(time.time()) - 10)}})
    time.sleep(2.0)
    assert s.names() == ["INSERT"]
