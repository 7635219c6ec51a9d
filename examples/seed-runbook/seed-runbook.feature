Feature: The seed runbook's own DR system recovers what was deleted
  The runbook's recovery-lambda.py, its backup plan and selection, drilled as they are: drdrill judges the
  recovery by what AWS shows (restore jobs, restored tables) and quotes the function's own log lines.

  Scenario: Deleted locks come back from the latest recovery point before the deletion
    Given a DR-protected table "dynamo-demo" with 20 items as defined in "stack.toml"
    And a recovery point of the table exists
    When 2 items are deleted
    Then a restore job completes within the DR policy's RTO
    And the restored table matches the table as it was before the change
    And the restore started from the right point
    And exactly 1 restore job started
    And the change monitor logged the REMOVE event

  Scenario: The backup plan protects the table as the DR policy asks
    Given a DR-protected table "dynamo-demo" with 5 items as defined in "stack.toml"
    Then point-in-time recovery is enabled on the table
    And the backup plan runs every 12 hours and keeps recovery points for 35 days
    And the backup selection covers the table
