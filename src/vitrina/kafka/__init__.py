"""Kafka I/O at the edges: client configs, topic admin, dead letters, the worker loop."""
