"""Provisioning of the DR stack with plain boto3, the same calls on every target."""
