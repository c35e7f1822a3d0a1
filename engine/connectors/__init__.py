"""Connectors: Python handlers for external service-task topics, registered in code.

Uploaded BPMN names a topic; only code shipped with bankflow (or registered by
the operator's own code) decides what a topic does, so a diagram can never bring
its own implementation.
"""
from __future__ import annotations

from engine.connectors import demo_bank
from engine.connectors.registry import CONNECTOR_RETRIES, ConnectorError, ConnectorRegistry, Handler

__all__ = ["CONNECTOR_RETRIES", "ConnectorError", "ConnectorRegistry", "Handler", "default_registry"]


def default_registry() -> ConnectorRegistry:
    """The handlers bankflow ships: simulated core banking, credit bureau, AML screening, chatbot."""
    registry = ConnectorRegistry()
    for topic, handler in demo_bank.HANDLERS.items():
        registry.register(topic, handler)
    return registry
