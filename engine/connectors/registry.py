"""The registry of connectors: which handler answers which external service-task topic."""
from __future__ import annotations

from typing import Any, Callable

Handler = Callable[[dict[str, Any]], dict[str, Any]]
# How often bankflow's worker tries a failed connector again before the case goes into incident.
CONNECTOR_RETRIES = 2


class ConnectorError(Exception):
    """A handler's business failure, reported on the job (and as an incident when retries run out)."""


class ConnectorRegistry:
    """Topic -> handler, filled in code (see `engine.connectors.default_registry`)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, topic: str, handler: Handler) -> None:
        self._handlers[topic] = handler

    def topics(self) -> list[str]:
        return sorted(self._handlers)

    def handler(self, topic: str) -> Handler:
        return self._handlers[topic]
