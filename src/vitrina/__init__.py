"""Vitrina — the analytics platform of the marketplace «Покупай выгодно»."""

__version__ = "0.1.0"
