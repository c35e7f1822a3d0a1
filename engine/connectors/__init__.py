"""Connectors: Python handlers for external service-task topics, registered in code.

Uploaded BPMN names a topic; only code shipped with bankflow (or registered by
the operator's own code) decides what a topic does, so a diagram can never bring
its own implementation.
"""
from __future__ import annotations

from typing import Any, Callable

Handler = Callable[[dict[str, Any]], dict[str, Any]]
# How often bankflow's worker tries a failed connector again before the case goes into incident.
CONNECTOR_RETRIES = 2


class ConnectorError(Exception):
    """A handler's business failure, reported on the job (and as an incident when retries run out)."""


class ConnectorRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, topic: str, handler: Handler) -> None:
        self._handlers[topic] = handler

    def topics(self) -> list[str]:
        return sorted(self._handlers)

    def handler(self, topic: str) -> Handler:
        return self._handlers[topic]


def default_registry() -> ConnectorRegistry:
    """The handlers bankflow ships: simulated core banking, credit bureau, AML screening, chatbot."""
    from engine.connectors import demo_bank

    registry = ConnectorRegistry()
    for topic, handler in demo_bank.HANDLERS.items():
        registry.register(topic, handler)
    return registry
