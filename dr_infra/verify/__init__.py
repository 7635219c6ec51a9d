"""Proof: recovered data against the oracle, posture and IAM checks, and the monitor's own log lines."""
