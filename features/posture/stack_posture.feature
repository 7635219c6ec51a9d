Feature: The DR stack is protected as declared
  A DR owner signs off only what was read back from the target, never the spec that was sent.

  Scenario: The protected table, its backups and its change monitor are in place
    Given a DR-protected table "orders" with 20 items
    Then point-in-time recovery is enabled on the table
    And the table's stream carries new and old images
    And the backup plan runs every 12 hours and keeps recovery points for 35 days
    And the backup plan meets the DR policy
    And the backup selection covers the table
    And the change monitor can start restore jobs and pass only the backup restore role
    And the event source mapping is enabled at LATEST with ReportBatchItemFailures
