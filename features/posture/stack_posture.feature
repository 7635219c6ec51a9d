@posture
Feature: The DR stack is protected as declared
  A DR owner signs off only what was read back from the target, never the spec that was sent.

  Scenario: The table has point-in-time recovery and a stream with both images
    Given a DR-protected table "orders" with 20 items
    Then point-in-time recovery is enabled on the table
    And the table's stream carries new and old images

  Scenario: The backup plan backs the table up every 12 hours and keeps 35 days
    Given a DR-protected table "orders" with 20 items
    Then the backup plan runs every 12 hours and keeps recovery points for 35 days
    And the backup plan meets the DR policy
    And the backup selection covers the table

  Scenario: The change monitor watches the stream with least privilege
    Given a DR-protected table "orders" with 20 items
    Then the change monitor can start restore jobs and pass only the backup restore role
    And the event source mapping is enabled at LATEST with ReportBatchItemFailures
