"""A memo for recursive questions about code that may loop back on themselves.

Analyses follow a name to the values bound to it, which may name it again
(`q = q.where(...)`). Asked afresh at each step, n conditional reassignments cost
2^n questions; answered once each, n. A question met again while it is still being
answered is a cycle, which proves nothing: it gets the `cycle` answer. An answer
that leaned on such an open question further up is not kept (it may differ when
asked afresh); a self-contained one is (Tarjan's low-link, for one answer a node).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_NO_CYCLE = 1 << 62  # deeper than any stack


class Memo(Generic[K, V]):
    """`memo.ask(key, answer)`: `answer()` once per key, `cycle` inside a cycle."""

    def __init__(self, cycle: V) -> None:
        self._cycle = cycle
        self._known: dict[K, V] = {}
        self._open: dict[K, int] = {}  # questions being answered -> stack depth
        self._low = _NO_CYCLE  # the shallowest open question the current one met

    def ask(self, key: K, answer: Callable[[], V]) -> V:
        if key in self._known:
            return self._known[key]
        depth = self._open.get(key)
        if depth is not None:
            self._low = min(self._low, depth)
            return self._cycle
        depth = self._open[key] = len(self._open)
        outer_low, self._low = self._low, _NO_CYCLE
        try:
            value = answer()
        finally:
            del self._open[key]
            low, self._low = self._low, min(outer_low, self._low)
        if low >= depth:
            self._known[key] = value
        return value
