"""The conformance tests, one module per area of the catalog; each test names the clauses it checks."""
