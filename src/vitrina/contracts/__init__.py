"""Message contracts: typed models, their JSON Schema files, one codec."""

from vitrina.contracts.codec import decode, dumps, encode, loads, validate

__all__ = ["decode", "dumps", "encode", "loads", "validate"]
