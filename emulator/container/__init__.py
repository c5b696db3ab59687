"""The reimplemented Custom NER container (Microsoft's ``customner`` image): settings and start-up gating, the
exported model, the ``/language/analyze-text/jobs`` prediction API, probes, and metering to the Billing endpoint.
"""
