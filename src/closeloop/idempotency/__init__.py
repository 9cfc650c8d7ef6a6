"""Remembered results of POST requests carrying an ``Idempotency-Key``."""
