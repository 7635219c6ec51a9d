@table_loss
Feature: A lost table is restored from the latest recovery point or to a point in time
  DeleteTable emits no stream records, so the monitor cannot see it; the drill runs the recovery
  runbook itself and says so in the report.

  @backup
  Scenario: The whole table is deleted
    Given a DR-protected table "orders" with 80 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    When the table is deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And the restored table is protected again

  @pitr
  Scenario: The whole table is deleted and restored to the second before the deletion
    Given a DR-protected table "orders" with 80 items
    And the change monitor restores with the "pitr" strategy
    When the table is deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And the restored table is protected again
