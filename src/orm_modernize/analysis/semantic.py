"""What an expression is, as far as static analysis can prove. One `Semantic`
serves every rule of one pass over one module; it is made of layers, each in its
own module: the module's tree and names (`names.Names`), mapped classes and
shapes (`models.Models`), sessions and `db` objects (`sessions.Sessions`).
Analyses that build on it and cache their answers (`CoreObjects`,
`MetadataBinds`) are shared through `shared()`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from orm_modernize.analysis.sessions import Sessions

T = TypeVar("T")


class Semantic(Sessions):
    """Answers questions about the nodes of one module; knows no particular rule."""

    def shared(self, factory: Callable[[Semantic], T]) -> T:
        """The one `factory(self)` of this module, made on first use: analyses
        that build on this one (`CoreObjects`) and cache their answers."""
        if factory not in self._shared:
            self._shared[factory] = factory(self)
        return cast(T, self._shared[factory])
