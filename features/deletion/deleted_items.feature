@deletion
Feature: Deleted items come back
  Items deleted by mistake make the change monitor start exactly one recovery, and the data
  comes back exactly as it was.

  @backup
  Scenario: A deleted item is restored from the latest recovery point
    Given a DR-protected table "orders" with 50 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And a recovery point of the table exists
    When 1 item is deleted
    Then a restore job completes within the DR policy's RTO
    And the restore started from the right point
    And the restored table matches the table as it was before the change
    And exactly 1 restore job started
    And the change monitor logged the REMOVE event
    And the RTO and RPO meet the DR policy

  @pitr
  Scenario: Deleted items are restored to the second before the deletion
    Given a DR-protected table "orders" with 50 items
    And the change monitor restores with the "pitr" strategy
    When 3 items are deleted
    Then a restore job completes within the DR policy's RTO
    And the restore started from the right point
    And the restored table matches the table as it was before the change
    And no data written before the change was lost
    And exactly 1 restore job started
    And the restored table is protected again
    And the RTO and RPO meet the DR policy

  @item
  Scenario: Deleted items are repaired in place
    Given a DR-protected table "orders" with 50 items
    And the table holds the item "customer-42"
    And the change monitor restores with the "item" strategy
    When the item "customer-42" is deleted
    Then the table is repaired in place within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And the change monitor logged the REMOVE event
    And the RTO and RPO meet the DR policy
