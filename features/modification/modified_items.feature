@modification
Feature: Modified items are put back as they were
  A bad deploy overwrites items; recovery brings back the values from before the change.

  @backup
  Scenario: Modified items are restored from the latest recovery point
    Given a DR-protected table "orders" with 40 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    When 5 items are modified
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And the change monitor logged the MODIFY event
    And exactly 1 restore job started

  @pitr
  Scenario: Modified items are restored to the second before the change
    Given a DR-protected table "orders" with 40 items
    And the change monitor restores with the "pitr" strategy
    When 5 items are modified
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And no data written before the change was lost

  @item
  Scenario: A modified item is repaired in place
    Given a DR-protected table "orders" with 40 items
    And the table holds the item "invoice-7"
    And the change monitor restores with the "item" strategy
    When the item "invoice-7" is modified
    Then the table is repaired in place within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And the change monitor logged the MODIFY event
