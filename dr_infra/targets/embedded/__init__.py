"""The embedded target: moto, pinned, plus the gap-fillers that make it behave as AWS documents.

This subpackage is the only code in drdrill that touches moto internals. Everything else talks to it with
plain boto3 clients, exactly as it talks to LocalStack or AWS.
"""

from dr_infra.targets.embedded.target import EmbeddedTarget

__all__ = ["EmbeddedTarget"]
