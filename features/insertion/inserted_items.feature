@insertion
Feature: Items that should not exist are removed by recovery
  Injected rows (a replayed import, a test writing to production) are harmful too.

  @backup
  Scenario: Inserted items are absent from the table restored from the latest recovery point
    Given a DR-protected table "orders" with 30 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    When 4 items are inserted
    Then a restore job completes within the DR policy's RTO
    And the restore started from the right point
    And the restored table matches the table as it was before the change
    And the change monitor logged the INSERT event

  @pitr
  Scenario: Inserted items are absent from the table restored to before the insert
    Given a DR-protected table "orders" with 30 items
    And the change monitor restores with the "pitr" strategy
    When 4 items are inserted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And the change monitor logged the INSERT event

  @item
  Scenario: Inserted items are removed in place
    Given a DR-protected table "orders" with 30 items
    And the change monitor restores with the "item" strategy
    When 4 items are inserted
    Then the table is repaired in place within the DR policy's RTO
    And the restored table matches the table as it was before the change
