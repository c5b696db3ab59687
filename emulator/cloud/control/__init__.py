"""The control plane (``/_emulator``): health, reset, seed, faults, journal, job progression, clock."""
