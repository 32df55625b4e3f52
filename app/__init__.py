"""Wiring: configuration, the NATS bus, the CLI and the all-in-one runner."""
