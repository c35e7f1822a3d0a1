"""DMN decision tables, evaluated the way SpiffWorkflow's DMNEngine does, in one request.

SpiffWorkflow evaluates a table cell by cell, each cell one script-engine call, and finds the
`?` standing for the input with a regular expression that takes quadratic time (a cell of
60,000 `?` hung deploys). Here:
- `substitute_input` does that substitution in one pass, with the library's exact semantics
  (a `?` counts when an even number of quote characters follows it);
- `BankflowDMNEngine.result` builds the table's tests once per definition version (which cell
  needs `==`, which uses the input) and, with bankflow's script engine, sends the whole table to
  an evaluator process in one request (`IsolatedEnvironment.decide`); the answer is assembled
  into task data as the library's `Rule.output_as_dict` and `DMNEngine.result` do;
- an output name may have at most MAX_OUTPUT_PARTS dotted parts (`applicant.risk.level`): each
  part is one level of nesting in task data.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.dmn.specs.model import HitPolicy
from SpiffWorkflow.util.deep_merge import DeepMerge

DMN_INPUT = "dmninputexpr"
MAX_OUTPUT_PARTS = 10
_QUOTES = "'\""


def substitute_input(cell: str) -> str:
    """`cell` with each `?` outside quotes replaced by the input's name, in linear time.

    SpiffWorkflow's pattern `(\\?)(?=(?:[^'"]|['"][^'"]*['"])*$)` replaces a `?` when the rest
    of the text is a sequence of non-quote characters and pairs of quote characters, that is
    when an even number of quote characters follows it.
    """
    if "?" not in cell:
        return cell
    quotes_after = sum(cell.count(quote) for quote in _QUOTES)
    parts = []
    for char in cell:
        if char in _QUOTES:
            quotes_after -= 1
            parts.append(char)
        elif char == "?" and quotes_after % 2 == 0:
            parts.append(DMN_INPUT)
        else:
            parts.append(char)
    return "".join(parts)


def output_parts(name: str) -> list[str]:
    """The nesting of an output name (`a.b.c`); ValueError when it nests too deeply."""
    parts = name.split(".")
    if len(parts) > MAX_OUTPUT_PARTS:
        raise ValueError(f"the output name '{name[:60]}' has {len(parts)} dotted parts; at most "
                         f"{MAX_OUTPUT_PARTS} are allowed")
    return parts


def _outputs_as_dict(values: list[tuple[str, Any]]) -> OrderedDict:
    """SpiffWorkflow's `Rule.output_as_dict` for already evaluated outputs."""
    out: OrderedDict = OrderedDict()
    for key, value in values:
        if "." in key:
            parts = list(reversed(output_parts(key)))
            nested: Any = value
            for part in parts[:-1]:
                nested = {part: nested}
            out[parts[-1]] = DeepMerge.merge(out.get(parts[-1], {}), nested)
        else:
            out[key] = value
    return out


class BankflowDMNEngine(DMNEngine):
    """SpiffWorkflow's DMN engine with a linear `?` substitution and one request per decision."""

    def __init__(self, decision_table: Any):
        super().__init__(decision_table)
        self._plan: tuple[list[Any], str] | None = None

    def evaluate(self, input_expr: str, match_expr: str, task: Any) -> Any:
        """One cell, as the library does it (used with script engines that cannot decide)."""
        if match_expr is None:
            return True
        script_engine = task.workflow.script_engine
        match_expr = substitute_input(match_expr)
        if DMN_INPUT in match_expr:
            external_context = {DMN_INPUT: script_engine.evaluate(task, input_expr)}
            return script_engine.evaluate(task, match_expr, external_context=external_context)
        script_engine.validate(input_expr)
        needs_eq = self.needs_eq(script_engine, match_expr)
        expr = f"({input_expr}) == ({match_expr})" if needs_eq else input_expr + match_expr
        return script_engine.evaluate(task, expr)

    def result(self, task: Any) -> dict[str, Any]:
        script_engine = task.workflow.script_engine
        if not hasattr(script_engine, "decide"):
            return super().result(task)
        rules, policy = self._planned(script_engine, task)
        try:
            matches = script_engine.decide(task, rules, policy)
        except WorkflowTaskException:
            raise
        except Exception as err:
            error = WorkflowTaskException(str(err), task=task, exception=err)
            for note in getattr(err, "__notes__", ()):
                error.add_note(note)
            raise error from None
        if policy == HitPolicy.COLLECT.value:
            result: dict[str, Any] = {}
            for _, values in matches:
                for key, value in _outputs_as_dict(values).items():
                    result.setdefault(key, []).append(value)
            return result
        return _outputs_as_dict(matches[0][1]) if matches else {}

    def _planned(self, script_engine: Any, task: Any) -> tuple[list[Any], str]:
        """The table's rules as (row, tests, outputs), worked out once (see `worker._decide`)."""
        if self._plan is None:
            table = self.decision_table
            rules = []
            for rule in table.rules:
                tests = []
                for entry in rule.inputEntries:
                    for match in entry.lhs:
                        if match is None:
                            continue
                        try:
                            tests.append(self._test(script_engine, entry, match))
                        except Exception as err:
                            error = WorkflowTaskException(str(err), task=task, exception=err)
                            error.add_note(f"Failed to execute DMN Rule on row {rule.row_number}")
                            raise error from None
                outputs = []
                for entry in rule.outputEntries:
                    key = entry.output.name or entry.output.label
                    output_parts(key)
                    outputs.append((key, entry.text or None))
                rules.append((rule.row_number, tests, outputs))
            self._plan = (rules, table.hit_policy)
        return self._plan

    def _test(self, script_engine: Any, entry: Any, match: str) -> tuple[str | None, str]:
        input_expr = entry.input.expression
        if not input_expr:
            raise ValueError(f"the decision input '{entry.input.label or entry.input.id}' has no expression")
        match = substitute_input(match)
        if DMN_INPUT in match:
            return (input_expr, match)
        script_engine.validate(input_expr)
        if self.needs_eq(script_engine, match):
            return (None, f"({input_expr}) == ({match})")
        return (None, input_expr + match)
