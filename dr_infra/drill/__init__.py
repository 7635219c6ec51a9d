"""One drill: its state, the oracle of expected data, injection, waits, recovery, runbooks and the DR policy."""
