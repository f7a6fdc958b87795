"""Which rules and which fixes the configuration's layers select, layer upon layer,
as ruff's `select`/`extend-select`/`ignore` and its `fixable` keys do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from orm_modernize.data.codes import CODES, OPT_IN


class Layer(Protocol):
    """What a layer of the configuration (`config.Options`) says of rules and fixes."""

    @property
    def select(self) -> tuple[str, ...] | None: ...
    @property
    def extend_select(self) -> tuple[str, ...]: ...
    @property
    def ignore(self) -> tuple[str, ...]: ...
    @property
    def fixable(self) -> tuple[str, ...] | None: ...
    @property
    def extend_fixable(self) -> tuple[str, ...]: ...
    @property
    def unfixable(self) -> tuple[str, ...]: ...
    @property
    def extend_safe_fixes(self) -> tuple[str, ...]: ...
    @property
    def extend_unsafe_fixes(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Fixes:
    """Which fixes are offered and how they are graded, layer upon layer: a
    layer's `fixable` replaces those below, the other keys add to them."""

    fixable: tuple[str, ...] = ("ORM",)
    unfixable: tuple[str, ...] = ()
    safe: tuple[str, ...] = ()
    unsafe: tuple[str, ...] = ()

    def with_layer(self, layer: Layer) -> Fixes:
        fixable = self.fixable if layer.fixable is None else layer.fixable
        return Fixes(
            fixable + layer.extend_fixable,
            self.unfixable + layer.unfixable,
            self.safe + layer.extend_safe_fixes,
            self.unsafe + layer.extend_unsafe_fixes,
        )


def selected(enabled: set[str], layer: Layer) -> set[str]:
    """One layer's rule selection applied to what the layers below enabled."""
    chosen = set(enabled) if layer.select is None else set()
    rules = [(p, True) for p in (layer.select or ())] + [
        (p, True) for p in layer.extend_select
    ]
    rules += [(p, False) for p in layer.ignore]
    # Least specific first, `ignore` after `select` on a tie: the last word wins.
    for prefix, on in sorted(rules, key=lambda rule: (len(rule[0]), rule[1] is False)):
        matching = {
            code
            for code in CODES
            if code.startswith(prefix) and (code not in OPT_IN or code == prefix)
        }
        chosen = chosen | matching if on else chosen - matching
    return chosen
