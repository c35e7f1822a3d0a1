"""The script engine every workflow runs with.

Besides evaluating scripts and expressions (in the sandbox environment), it
carries the clock and the business calendars, which bankflow's timer
definitions read through `task.workflow.script_engine`.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from engine.clock import Clock
from engine.sla.registry import CalendarRegistry


class BankflowScriptEngine(PythonScriptEngine):
    def __init__(self, environment: Any, clock: Clock, calendars: CalendarRegistry):
        super().__init__(environment=environment)
        self.clock = clock
        self.calendars = calendars
