"""The DR stack: its definition, its names, provisioning with plain boto3, safety checks, clean-up and cost."""
