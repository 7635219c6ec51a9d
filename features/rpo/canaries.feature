@rpo
Feature: The RPO is measured, not estimated
  A background writer puts numbered canaries; the newest canary that survives the restore tells
  how many seconds of writes were lost.

  @pitr
  Scenario: Point-in-time recovery loses at most a second of writes
    Given a DR-protected table "orders" with 30 items
    And the change monitor reacts to "REMOVE" events
    And the change monitor restores with the "pitr" strategy
    And canary writes every 100 milliseconds
    When 2 items are deleted
    Then a restore job completes within the DR policy's RTO
    And at most the DR policy's RPO of writes were lost
    And the RTO and RPO meet the DR policy

  @backup
  Scenario: A backup restore loses the writes made since the recovery point
    Given a DR-protected table "orders" with 30 items
    And the change monitor reacts to "REMOVE" events
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And canary writes every 100 milliseconds
    When 2 items are deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And at most the DR policy's RPO of writes were lost
