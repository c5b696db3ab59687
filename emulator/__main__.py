"""``python -m emulator`` is the ``cner`` command (for environments without the console script on PATH)."""

from emulator.cli import main

main()
