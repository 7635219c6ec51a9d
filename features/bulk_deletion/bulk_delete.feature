@bulk_deletion
Feature: A bulk delete is one incident with one recovery
  Hundreds of REMOVE records spread over many batches must start exactly one restore.

  @backup
  Scenario: 500 deleted items are restored by a single restore job
    Given a DR-protected table "orders" with 600 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    When 500 items are deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And exactly 1 restore job started

  @pitr
  Scenario: 500 deleted items are restored to the second before the bulk delete
    Given a DR-protected table "orders" with 600 items
    And the change monitor restores with the "pitr" strategy
    When 500 items are deleted
    Then a restore job completes within the DR policy's RTO
    And the restore started from the right point
    And the restored table matches the table as it was before the change
    And exactly 1 restore job started

  @item
  Scenario: 200 deleted items are repaired in place
    Given a DR-protected table "orders" with 250 items
    And the change monitor restores with the "item" strategy
    When 200 items are deleted
    Then the table is repaired in place within the DR policy's RTO
    And the restored table matches the table as it was before the change
