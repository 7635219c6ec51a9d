@idempotency
Feature: One incident, one restore
  Lambda may deliver a batch again (retries, bisection). A redelivered batch must not start a
  second restore.

  @backup
  Scenario: Redelivered stream records start no second backup restore
    Given a DR-protected table "orders" with 30 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    When 2 items are deleted
    And the last stream records are delivered again
    Then a restore job completes within the DR policy's RTO
    And exactly 1 restore job started

  @pitr
  Scenario: Redelivered stream records start no second point-in-time restore
    Given a DR-protected table "orders" with 30 items
    And the change monitor restores with the "pitr" strategy
    When 2 items are deleted
    And the last stream records are delivered again
    Then a restore job completes within the DR policy's RTO
    And exactly 1 restore job started
