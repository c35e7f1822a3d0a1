"""Parsed process specs, built once per definition version and kept in memory."""
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


class SpecCache:
    """A bounded, thread-safe LRU of ProcessSpecs keyed by definition id.

    Definitions are immutable once deployed, so an entry never goes stale; the
    bound only caps memory when many versions exist.
    """

    def __init__(self, capacity: int = 256):
        self._capacity = capacity
        self._entries: OrderedDict[int, ProcessSpecs] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, definition_id: int, build: Callable[[], ProcessSpecs]) -> ProcessSpecs:
        with self._lock:
            if definition_id in self._entries:
                self._entries.move_to_end(definition_id)
                return self._entries[definition_id]
        specs = build()
        self.put(definition_id, specs)
        return specs

    def put(self, definition_id: int, specs: ProcessSpecs) -> None:
        with self._lock:
            self._entries[definition_id] = specs
            self._entries.move_to_end(definition_id)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
