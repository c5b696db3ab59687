"""The serving process's heap: what start-up left behind is moved out of the cyclic collector's way.

CPython's full collection walks every tracked object while all threads wait. Once the model is loaded, the
container process holds over 100,000 objects that live as long as it does (Flask, werkzeug, numpy, numba and
llvmlite, the model's weights and feature tables); a full collection then takes 100-200 ms on the development
VM before the job store adds its share, and under load such a pause stalls every request behind it
(loadtests/RESULTS.md, run 5). ``gc.freeze`` moves them to the permanent generation, which collections skip:
only the objects made while serving are walked from then on. Freezing after a collection leaves no garbage
behind; a frozen object is still freed as soon as nothing refers to it, it is only exempt from cycle hunting.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("cner.container")


def settle() -> None:
    """Collect, then freeze what is left (called once start-up has loaded the model)."""
    gc.collect()
    gc.freeze()
    log.debug("heap settled: %d objects frozen", gc.get_freeze_count())
