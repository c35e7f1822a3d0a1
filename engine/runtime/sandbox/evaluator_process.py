"""The evaluator process: runs untrusted scripts, expressions and decision tables for the server.

The server never runs uploaded code itself. It sends each evaluation here (see `pool`) as plain
data over a pipe and gets plain data back. Inside, the in-process sandbox (RestrictedPython,
guarded access, the watchdog of `limits`) is the first wall; this process adds operating-system
limits that hold even inside one long C call, where the watchdog cannot interrupt:

- address space (RLIMIT_AS): the evaluation's memory limit above what the process uses before it
  starts, so one C call that would build a 2 GB string gets a MemoryError instead;
- CPU time (ITIMER_PROF, whose default action ends the process): the CPU limit plus a grace
  period, for a C call the watchdog cannot stop (`int('f' * 2000000, 16)` arithmetic);
- no core files, a bounded stack, few file descriptors; stdout goes to /dev/null, and so does
  stderr (a crashing interpreter prints a fatal error there) unless BANKFLOW_EVALUATOR_STDERR
  is set;
- once started, before its first request (`confine`): an unprivileged user (`nobody`) when the
  server runs as root, and a seccomp filter under which opening files for writing or changing
  the file system, creating sockets, starting programs or processes and signalling or tracing
  other processes fail with EPERM (a PermissionError, reported like any script error). Its first
  answer says what holds; without seccomp it still serves, and the pool logs that once.

A crash (SIGSEGV from exhausting the C stack), a CPU overrun or an out-of-memory kill ends only
this process; the server sees the pipe close, reports a clear incident and starts another one.

Requests are tuples `(op, cpu_seconds, memory_mb, *arguments)`:
    ("exec", cpu, mb, script, context, external)   -> ("ok", retire, updates, removed)
    ("eval", cpu, mb, expression, context, external) -> ("ok", retire, value)
    ("decide", cpu, mb, rules, collect, context)    -> ("ok", retire, [(row, [(name, value)])])
    ("chain", cpu, mb, scripts, conditions, context) -> ("ok", retire, script answers, condition answers)
    ("ping", 0, 0)                                  -> ("ok", retire, pid)
    ("probe", 0, 0, kind, path)                     -> ("ok", retire, what happened)  (tests only,
                                                       with BANKFLOW_EVALUATOR_PROBES=1; `confine.probe`)
and, unasked, once at start: ("ok", False, pid, confinement) (see `confine.confine`). Failures
are `("error", retire, type_name, message, script_line, sandbox_line, note)`. Values leave as
plain data (`sizes.plain_data`): what a save gives back, so task data means the same
before and after a restore.
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import traceback
from typing import Any

from . import confine
from .errors import SandboxSyntaxError, SandboxViolation, ScriptLimitExceeded
from .limits import ScriptLimits
from .sizes import plain_data, plain_variables
from .text import scrub_text
from .wire import FrameReader, PeerGone, WireError, decode, encode, write_frame
from .in_process import SandboxedEnvironment

MB = 2**20
ADDRESS_SPACE_SLACK = 64 * MB     # room for the interpreter's own allocations around the script's
STACK_BYTES = 16 * MB
OPEN_FILES = 64
RETIRE_AFTER_REQUESTS = 5_000
RETIRE_ABOVE_GROWTH = 192 * MB    # RSS growth since start after which a fresh process is cheaper
_M_ARENA_MAX = -8
_PAGE = os.sysconf("SC_PAGE_SIZE")
DMN_INPUT = "dmninputexpr"
# After an answer, wait this long awake for the next request (an engine run sends them every few
# hundred microseconds) before sleeping: saves a process wake-up per evaluation on a busy machine.
SPIN_MICROSECONDS = 1_000


def cpu_grace(cpu_seconds: float) -> float:
    """How long past its CPU limit an evaluation may run before the process is ended: the
    watchdog normally stops it first, with a clean error and the process kept."""
    return max(0.5, cpu_seconds / 4)


_STATM_FD: int | None = None


def _statm() -> tuple[int, int]:
    """(virtual size, resident size) of this process in bytes (one pread of a kept descriptor)."""
    global _STATM_FD
    if _STATM_FD is None:
        _STATM_FD = os.open("/proc/self/statm", os.O_RDONLY)
    size, resident = os.pread(_STATM_FD, 128, 0).split()[:2]
    return int(size) * _PAGE, int(resident) * _PAGE


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _set_soft_limit(kind: int, value: int) -> None:
    soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    try:
        resource.setrlimit(kind, (value, hard))
    except (ValueError, OSError):
        pass


def _harden() -> None:
    """Process-wide settings, once at start."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C in a terminal is for the server
    signal.signal(signal.SIGPROF, signal.SIG_DFL)    # the CPU backstop ends the process
    _set_soft_limit(resource.RLIMIT_CORE, 0)
    _set_soft_limit(resource.RLIMIT_STACK, STACK_BYTES)
    _set_soft_limit(resource.RLIMIT_NOFILE, OPEN_FILES)
    try:
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1)   # threads share one heap: no 64 MB arena per thread
    except (OSError, AttributeError):
        pass
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    if not os.environ.get("BANKFLOW_EVALUATOR_STDERR"):
        os.dup2(devnull, 2)
    os.close(devnull)


class _Limits:
    """Operating-system limits around each evaluation.

    The address-space limit stays in place between evaluations (the process does nothing else)
    and is set again when the memory limit changes or every REMEASURE_EVERY requests, measured
    from the process's size then; the CPU timer is armed for each evaluation.
    """

    REMEASURE_EVERY = 100

    def __init__(self) -> None:
        self.memory_mb: int | None = None
        self.since_measured = 0

    def arm(self, cpu_seconds: float, memory_mb: int, evaluations: int = 1) -> None:
        self.since_measured += 1
        if memory_mb != self.memory_mb or self.since_measured >= self.REMEASURE_EVERY:
            _set_soft_limit(resource.RLIMIT_AS, resource.RLIM_INFINITY)
            virtual, _ = _statm()
            _set_soft_limit(resource.RLIMIT_AS, virtual + memory_mb * MB + ADDRESS_SPACE_SLACK)
            self.memory_mb, self.since_measured = memory_mb, 0
        signal.setitimer(signal.ITIMER_PROF, (cpu_seconds + cpu_grace(cpu_seconds)) * evaluations)

    def disarm(self) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)


def _script_line(err: BaseException) -> int:
    """The line of the script where `err` happened, as SpiffWorkflow reports it."""
    if isinstance(err, SyntaxError):
        return err.lineno or 0
    line = 0
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename == "<string>":
            line = frame.lineno or 0
    return line


def _message(err: BaseException) -> str:
    if not err.args:
        return ""
    first = err.args[0]
    if isinstance(err, OSError) and isinstance(first, int):  # "[Errno 1] Operation not permitted: ..."
        return scrub_text(str(err)[:2_000])
    text = first if isinstance(first, str) else "(message cannot be shown)"
    return scrub_text(text[:2_000])


class Evaluator:
    """Answers requests with one sandboxed environment; limits change per request."""

    def __init__(self) -> None:
        self.env = SandboxedEnvironment(ScriptLimits())
        self.requests = 0
        self.retire = False
        self.limits = _Limits()
        self.env.evaluate("1", {})  # starts the watchdog thread before any limit is measured
        self.start_rss = _peak_rss()

    def handle(self, request: tuple[Any, ...]) -> bytes:
        op, cpu_seconds, memory_mb, *arguments = request
        self.requests += 1
        if op == "ping":
            return encode(("ok", False, os.getpid()))
        if op == "probe" and confine.probes_enabled():
            try:
                return encode(("ok", False, plain_data(confine.probe(*arguments))))
            except Exception as err:  # noqa: BLE001 - a denial comes back as the error it is
                return encode(self._failure(err, None, memory_mb))
        if (cpu_seconds, memory_mb) != (self.env.limits.cpu_seconds, self.env.limits.memory_mb):
            self.env.limits = ScriptLimits(cpu_seconds=cpu_seconds, memory_mb=memory_mb)
        try:
            self.limits.arm(cpu_seconds, memory_mb, len(arguments[0]) + len(arguments[1]) if op == "chain" else 1)
            try:
                if op == "exec":
                    script, context, external = arguments
                    updates, removed = self.env.script_changes(script, context, external, private=True)
                    reply: tuple[Any, ...] = ("ok", False, plain_variables(updates), removed)
                elif op == "eval":
                    expression, context, external = arguments
                    reply = ("ok", False, plain_data(self.env.evaluate(expression, context, external)))
                elif op == "chain":
                    scripts, conditions, context = arguments
                    reply = ("ok", False, *self._chain(scripts, conditions, context, memory_mb))
                elif op == "decide":
                    rules, policy, context = arguments
                    reply = ("ok", False, self._decide(rules, policy, context))
                else:
                    raise ValueError(f"unknown request {op!r}")
                payload = encode(reply)
            finally:
                self.limits.disarm()
        except Exception as caught:  # noqa: BLE001 - every script error is reported to the server
            error, note = (caught.err, caught.note) if isinstance(caught, _Noted) else (caught, None)
            return encode(self._failure(error, note, memory_mb))
        if self.requests >= RETIRE_AFTER_REQUESTS or _peak_rss() - self.start_rss > RETIRE_ABOVE_GROWTH:
            self.retire = True
            payload = encode((reply[0], True, *reply[2:]))
        return payload

    def _failure(self, err: BaseException, note: str | None, memory_mb: int) -> tuple[Any, ...]:
        if isinstance(err, MemoryError):
            err = ScriptLimitExceeded(f"the script used more than its memory limit of {memory_mb} MB")
        if isinstance(err, (ScriptLimitExceeded, RecursionError)):
            self.retire = True  # the interpreter survived; a fresh process is cheap insurance
        sandbox_line = err.line if isinstance(err, SandboxViolation) else None
        kind = "SandboxSyntaxError" if isinstance(err, SandboxSyntaxError) else type(err).__name__
        return ("error", self.retire, kind, _message(err), _script_line(err), sandbox_line, note)

    def _chain(self, scripts: list[str], conditions: list[str], context: dict[str, Any],
               memory_mb: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Scripts in sequence on one copy of the data, then conditions on the result (`prefetch`).
        Each answer is what a request of its own would have answered; the first failing script
        ends the run."""
        answers: list[tuple[Any, ...]] = []
        for script in scripts:
            try:
                changes, removed = self.env.script_changes(script, context, {}, private=True)
                updates = plain_variables(changes)
            except Exception as err:  # noqa: BLE001 - reported as that script's answer
                answers.append(self._failure(err, None, memory_mb))
                return answers, []
            answers.append(("ok", False, updates, removed))
            context.update(updates)
            for name in removed:
                context.pop(name, None)
        results = []
        for condition in conditions:
            try:
                results.append(("ok", False, plain_data(self.env.evaluate(condition, context, {}))))
            except Exception as err:  # noqa: BLE001 - raised only if the engine asks for this condition
                results.append(self._failure(err, None, memory_mb))
        return answers, results

    def _decide(self, rules: list[Any], policy: str, context: dict[str, Any]) -> list[Any]:
        """SpiffWorkflow's DMNEngine.result, every cell of one decision in one request.

        `rules` are (row, tests, outputs). A test is (input_expression, match): a match that uses
        the input as DMN_INPUT gets the input's value; with input_expression None the match is
        the whole test. UNIQUE stops at the first hit; outputs are evaluated for every hit when
        collecting, else for the first hit only.
        """
        matched = []
        for row, tests, outputs in rules:
            try:
                hit = all(self._test(input_expression, match, context) for input_expression, match in tests)
            except Exception as err:
                raise _Noted(err, f"Failed to execute DMN Rule on row {row}") from None
            if hit:
                matched.append((row, outputs))
                if policy == "UNIQUE":
                    break
        results = []
        for row, outputs in (matched if policy == "COLLECT" else matched[:1]):
            values = []
            for name, expression in outputs:
                try:
                    value = plain_data(self.env.evaluate(expression, context)) if expression else ""
                except Exception as err:
                    raise _Noted(err, f"Error evaluating expression '{expression}'") from None
                values.append((name, value))
            results.append((row, values))
        return results

    def _test(self, input_expression: str | None, match: str, context: dict[str, Any]) -> bool:
        if input_expression is None:
            return bool(self.env.evaluate(match, context))
        value = self.env.evaluate(input_expression, context)
        return bool(self.env.evaluate(match, context, {DMN_INPUT: value}))


class _Noted(Exception):
    """An error in a decision table, with where it happened."""

    def __init__(self, err: Exception, note: str):
        super().__init__(*err.args)
        self.err = err
        self.note = note


def serve_fd(fd: int) -> None:
    """Entry point of an evaluator process (forked by the zygote): serve requests on `fd`."""
    try:
        _harden()
        evaluator = Evaluator()
        reader = FrameReader(fd)
        confinement = confine.confine()  # last: everything above may still open files and start threads
        write_frame(fd, encode(("ok", False, os.getpid(), confinement)))
        spin = int(os.environ.get("BANKFLOW_EVALUATOR_SPIN_US", SPIN_MICROSECONDS)) / 1e6
        while not evaluator.retire:
            frame = reader.read(spin=spin)
            try:
                request = decode(frame)
            except WireError:
                write_frame(fd, encode(("error", False, "TypeError", "the task data holds a value that is not data",
                                        0, None, None)))
                continue
            write_frame(fd, evaluator.handle(request))
    except PeerGone:
        pass
    finally:
        os._exit(0)
