"""The conformance suite: judges any Custom NER container (Microsoft's image, ours, or a URL) clause by clause.

``catalog.toml`` holds the clauses, ``suite/`` the tests that check them, ``plugin.py`` the pytest plugin
(options, fixtures, report hooks), ``targets.py`` how a target is found or started, ``client.py`` the HTTP
client the tests use, ``report.py`` the clause-by-clause report. Run it with ``pytest conformance`` (our
container, started for the run) or ``cner conform --target URL | --image IMAGE``.
"""
