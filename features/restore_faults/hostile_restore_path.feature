@restore_faults
Feature: drdrill keeps its promises when the restore path misbehaves
  Throttled control-plane calls, a table younger than its first backup, a change monitor that fails or
  is never invoked: each is retried where AWS retries, and reported exactly where it cannot be.
  (Embedded target only: AWS offers no switch for these faults.)

  @backup @chaos
  Scenario: Throttled StartRestoreJob calls are retried and the drill passes
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And the "StartRestoreJob" operation is throttled 2 times
    When 1 item is deleted
    Then a restore job completes within 30 seconds
    And the restored table matches the table as it was before the change
    And the journal counts 2 throttles of "StartRestoreJob"

  @backup @chaos
  Scenario: Throttled DescribeRestoreJob calls are retried and the drill passes
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And the "DescribeRestoreJob" operation is throttled 3 times
    When 1 item is deleted
    Then a restore job completes within 30 seconds
    And the restored table matches the table as it was before the change
    And the journal counts 3 throttles of "DescribeRestoreJob"

  @backup @chaos
  Scenario: Throttled DescribeTable calls are retried and the drill passes
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And the "DescribeTable" operation is throttled 2 times
    When 1 item is deleted
    Then a restore job completes within 30 seconds
    And the restored table matches the table as it was before the change
    And the journal counts 2 throttles of "DescribeTable"

  @backup
  Scenario: A table younger than its first backup cannot be restored to before the change
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    When 1 item is deleted
    Then the change monitor logged no recovery point before the change
    And the report notes that the RPO cannot be met for changes before the first backup

  @backup @chaos
  Scenario: A change monitor that fails its first invocations is retried by the mapping and still restores
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And the change monitor fails its next 2 invocations
    When 1 item is deleted
    Then a restore job completes within 30 seconds
    And the change monitor failed 2 invocations before the restore started
    And the restored table matches the table as it was before the change

  @backup @chaos
  Scenario: A change monitor that times out once is retried by the mapping and still restores
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And the change monitor times out on its next 1 invocation
    When 1 item is deleted
    Then a restore job completes within 30 seconds
    And the change monitor failed 1 invocation before the restore started

  @backup @chaos
  Scenario: A change monitor failing beyond the mapping's retries loses the detection, and says so
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And the change monitor fails its next 4 invocations
    When 1 item is deleted
    Then the change is reported as never detected within 20 seconds

  @backup @chaos
  Scenario: A disabled event source mapping never invokes the monitor, an RTO violation
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And the change monitor's event source mapping is disabled
    When 1 item is deleted
    Then the change monitor was never invoked
