"""Give a scenario its protected table: drdrill's own stack, provisioned, or a deployed one, used in place.

Why not in :meth:`Drill.create_stack`: using a deployed stack needs :mod:`dr_infra.drill.deployed_items`, which
builds on the ``Drill`` itself; choosing here, above both, keeps the drill layer's imports free of a circle.
"""

from __future__ import annotations

from dr_infra.drill.deployed_items import use_deployed
from dr_infra.drill.state import Drill
from dr_infra.stack.definition import StackDefinition
from dr_infra.stack.handles import Stack


def protect(drill: Drill, logical_table: str, definition: StackDefinition | None = None) -> Stack:
    """The scenario's stack for ``logical_table`` from ``definition`` (else the run's, else the seed's stack):
    a ``[deployed]`` definition's stack is discovered and used, nothing is provisioned; any other is created."""
    chosen = definition or drill.definition
    if chosen is not None and chosen.deployed is not None:
        return use_deployed(drill, logical_table, chosen)
    return drill.create_stack(logical_table, definition=definition)
