@restore_faults
Feature: drdrill reports exactly how a broken recovery breaks
  Recovery itself can fail. These scenarios inject faults on the restore path (embedded target only)
  and prove that drdrill names the failure instead of passing or hanging.

  @backup @chaos
  Scenario: A restore job that ends FAILED is reported with its status message
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And restore jobs fail
    When 1 item is deleted
    Then the restore fails within 30 seconds with the job's status message

  @backup @chaos
  Scenario: A restore slower than the RTO is a violation of the restore phase
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And restore jobs take 8 seconds
    And the DR policy requires an RTO of 2 seconds and an RPO of 60 seconds
    When 1 item is deleted
    Then a restore job completes within 30 seconds
    And the RTO is violated in the "restore started -> restore completed" phase

  @backup @chaos
  Scenario: A denied StartRestoreJob is reported as a restore that could not be started
    Given a DR-protected table "orders" with 20 items
    And the change monitor restores with the "backup" strategy
    And a recovery point of the table exists
    And starting a restore is denied
    When 1 item is deleted
    Then the restore could not be started within 5 seconds
