"""Load sessions with Locust against a Custom NER container: the sustainable transactions/s and the latency a
client sees, inside the container's resource limits.

Only ``locustfile.py`` imports Locust (which patches the standard library with gevent on import); the other
modules hold plain logic the ``cner load`` command and the tests use without it.
"""
