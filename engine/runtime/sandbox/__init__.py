"""The sandbox for scripts, gateway conditions and DMN cells from uploaded BPMN/DMN files.

SpiffWorkflow's default PythonScriptEngine runs them with plain exec/eval, i.e. with the full
power of the server. Here they run:
- compiled by RestrictedPython with bankflow's policy, cached per text (compiler);
- with guarded attribute/item access (access), size-checked operators and text
  formatting (operators, text, sizes) and a small set of safe builtins
  with no modules (safe_builtins, namespace);
- under a CPU-time and memory limit enforced by a watchdog thread, in any thread
  (limits).

The watchdog can only interrupt a script between bytecodes, and the guards bound what a single
C call can build but not every C-level loop or every C stack it can exhaust. That is why the
engine never evaluates here, in the server: `isolated.IsolatedEnvironment` sends every evaluation
to an evaluator process (`pool`, `evaluator_process`, `zygote`), which runs this sandbox under
operating-system limits and may crash or be killed without harm to the server.

Should code get past all of that, an evaluator is confined too (`confine`): before its first
request it drops to an unprivileged user (`nobody`) when the server runs as root, and installs
a seccomp filter under which opening files for writing (or creating, renaming, removing them,
changing modes or owners), creating sockets, starting programs or processes (execve, fork;
threads still work), tracing or signalling other processes and io_uring fail with EPERM: a
PermissionError, an incident like any script error. Reading, its already open descriptors and the
resource limits are unchanged. Without libseccomp it serves with the limits alone and the server
logs that once.

Public API:
    check_script(source) / check_expression(source)  deploy-time checks, raise SandboxViolation
    SandboxedEnvironment(limits=None, environment_globals=None)
    SandboxedScriptEngine(environment=None), make_script_engine(limits=None)   in-process (in_process: evaluators, tests)
    IsolatedEnvironment(limits=None), IsolatedScriptEngine(environment=None)   evaluations sent to evaluator processes (isolated)
    ScriptLimits, SandboxViolation, SandboxSyntaxError, ScriptLimitExceeded
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine

from .compiler import check_expression, check_script
from .errors import SandboxSyntaxError, SandboxViolation, ScriptLimitExceeded
from .in_process import SandboxedEnvironment, SandboxedScriptEngine
from .isolated import IsolatedEnvironment, IsolatedScriptEngine
from .limits import ScriptLimits

__all__ = [
    "IsolatedEnvironment",
    "IsolatedScriptEngine",
    "SandboxSyntaxError",
    "SandboxViolation",
    "SandboxedEnvironment",
    "SandboxedScriptEngine",
    "ScriptLimitExceeded",
    "ScriptLimits",
    "check_expression",
    "check_script",
    "make_script_engine",
]


def make_script_engine(limits: ScriptLimits | None = None) -> PythonScriptEngine:
    """The script engine for `BpmnWorkflow(spec, script_engine=make_script_engine())`."""
    return SandboxedScriptEngine(SandboxedEnvironment(limits))

