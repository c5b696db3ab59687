"""Linear-chain CRF decoding: the best tag sequence (Viterbi) and each token's tag probabilities.

What crfsuite's tagger computes, over state scores that ``emissions`` has already added up. Compiled with
numba: a 1,000-character document is about 190 tokens by 12 labels, where a Python or per-step numpy loop
costs milliseconds and compiled loops tens of microseconds. The compiled code is cached on disk where
numba can write (``__pycache__``, ``NUMBA_CACHE_DIR``, the user's cache folder), so a process starts in a
fraction of a second instead of the ~5 s a fresh compile takes; where nothing is writable it compiles.

Ties go to the lowest label id, as in crfsuite. The functions keep the GIL (no ``nogil``): they take about
0.1 ms, and a thread that lets go of the GIL may wait a whole switch interval (5 ms) to get it back from the
HTTP threads, which would add to every job's latency on the one core the container is sized for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from numba import njit

Function = TypeVar("Function", bound=Callable[..., Any])


def _compiled(signature: str) -> Callable[[Function], Function]:
    """Compile eagerly for ``signature``, cached on disk if numba finds a writable place for it."""

    def compile_(function: Function) -> Function:
        try:
            return cast(Function, njit(signature, cache=True)(function))
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return cast(Function, njit(signature)(function))

    return compile_


@_compiled("int64[:](float64[:, :], float64[:, :])")
def viterbi(scores: npt.NDArray[np.float64], transitions: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """The label ids of the highest-scoring path: ``scores[t, j]`` is label j at token t, ``transitions[i, j]``
    label j after label i. ``scores`` has at least one row."""
    n, labels = scores.shape
    back = np.empty((n, labels), dtype=np.int64)
    best = scores[0].copy()
    step = np.empty(labels)
    for t in range(1, n):
        for j in range(labels):
            top, arg = best[0] + transitions[0, j], 0
            for i in range(1, labels):
                score = best[i] + transitions[i, j]
                if score > top:
                    top, arg = score, i
            step[j] = top + scores[t, j]
            back[t, j] = arg
        best[:] = step
    path = np.empty(n, dtype=np.int64)
    last = 0
    for j in range(1, labels):
        if best[j] > best[last]:
            last = j
    path[n - 1] = last
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


@_compiled("float64[:, :](float64[:, :], float64[:, :])")
def marginals(scores: npt.NDArray[np.float64], transitions: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``p[t, j]``, the probability that token t has label j (forward-backward, each step rescaled so long
    documents neither overflow nor underflow)."""
    n, labels = scores.shape
    weights = np.empty((n, labels))
    for t in range(n):
        top = scores[t].max()
        for j in range(labels):
            weights[t, j] = np.exp(scores[t, j] - top)
    follow = np.exp(transitions)
    forward = np.empty((n, labels))
    backward = np.empty((n, labels))
    forward[0] = weights[0] / weights[0].sum()
    for t in range(1, n):
        for j in range(labels):
            total = 0.0
            for i in range(labels):
                total += forward[t - 1, i] * follow[i, j]
            forward[t, j] = total * weights[t, j]
        forward[t] /= forward[t].sum()
    backward[n - 1] = 1.0
    for t in range(n - 2, -1, -1):
        for i in range(labels):
            total = 0.0
            for j in range(labels):
                total += follow[i, j] * weights[t + 1, j] * backward[t + 1, j]
            backward[t, i] = total
        backward[t] /= backward[t].sum()
    joint = forward * backward
    for t in range(n):
        joint[t] /= joint[t].sum()
    return joint
