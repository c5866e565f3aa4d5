"""Doubles that speak the real protocols: the loopback Wechaty puppet service and the rig that wires the real
channel to it (for tests, benchmarks and `steward sim`)."""
