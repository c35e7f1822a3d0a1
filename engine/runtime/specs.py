"""Deployed definition versions as the runtime needs them, built once and kept in memory."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class ProcessSpecs:
    """What SpiffWorkflow needs to run one definition version."""

    spec: Any
    subprocess_specs: dict[str, Any]


@dataclass(frozen=True)
class RunnableDefinition:
    """One definition version: its parsed specs and the metadata read at deploy.

    Everything here is fixed at deploy (only a definition's `active` flag changes
    later, and it is not kept here), so a cached copy never goes stale.
    """

    id: int
    key: str
    version: int
    name: str | None
    sla_target: str | None
    sla_calendar: str | None
    elements: dict[str, dict[str, Any]]  # element id -> metadata (lane, candidates, form, SLA...)
    specs: ProcessSpecs
    starter_groups: tuple[str, ...] = ()  # who may start it; both empty: any staff member
    starter_users: tuple[str, ...] = ()


class DefinitionCache:
    """A bounded, thread-safe LRU of RunnableDefinition keyed by definition id.

    The bound only caps memory when many versions exist.
    """

    def __init__(self, capacity: int = 256):
        self._capacity = capacity
        self._entries: OrderedDict[int, RunnableDefinition] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, definition_id: int, build: Callable[[], RunnableDefinition]) -> RunnableDefinition:
        with self._lock:
            if definition_id in self._entries:
                self._entries.move_to_end(definition_id)
                return self._entries[definition_id]
        definition = build()
        self.put(definition)
        return definition

    def put(self, definition: RunnableDefinition) -> None:
        with self._lock:
            self._entries[definition.id] = definition
            self._entries.move_to_end(definition.id)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
