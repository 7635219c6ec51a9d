@plan_rpo
Feature: The backup strategy loses what the backup plan's cadence loses
  The backup strategy restores from the newest recovery point, so its RPO is the age of the backup plan's
  last scheduled run when the change happens: up to the plan's 12-hour interval, not the seconds an
  on-demand backup taken just before the change would suggest. The plan runs three times first, and the
  change comes just before its next run, the worst moment.

  @backup
  Scenario: Deleted items are restored from the plan's newest scheduled recovery point
    Given a DR-protected table "orders" with 50 items
    And the change monitor restores with the "backup" strategy
    And the backup plan has run 3 times
    When 3 items are deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And the restore started from the right point
    And at most the DR policy's RPO of writes were lost
    And the RTO and RPO meet the DR policy
