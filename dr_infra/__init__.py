"""drdrill: prove, on demand and on a schedule, that a DynamoDB table's disaster-recovery guarantees hold."""

__version__ = "0.1.0"
