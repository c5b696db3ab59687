"""Billing and metering: the key check and usage ingestion that containers report to (docs/billing-protocol.md)."""
