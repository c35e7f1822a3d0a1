"""CPU-time and memory limits for one sandboxed evaluation, in whatever thread it runs.

Why not signals: SIGALRM/setitimer only ever interrupt the main thread, and scripts run in web
server and worker threads.

How it works:
- `run_limited(limits, action)` registers a run for the calling thread with one process-wide
  watchdog thread, calls `action()` and unregisters it.
- While runs are registered, the watchdog wakes every TICK_SECONDS (it sleeps on an Event when
  idle, so idle processes pay nothing). It reads each run's thread CPU clock
  (`pthread_getcpuclockid` + `clock_gettime`) and the process RSS (/proc/self/statm). Both are
  measured from the watchdog's first look at the run, so the first tick of a run (at most
  ~10 ms) is not counted: the limits are approximate by that much.
- Once a run is over a limit, the watchdog records the reason and raises `_LimitSignal` into the
  run's thread with `PyThreadState_SetAsyncExc`, and again on every tick until the run ends, so a
  `finally:` block that loops cannot hold it off for long.
- `_LimitSignal` derives from BaseException, so `except Exception` in a script cannot catch it
  (bare `except:`, `except BaseException` and `return` in `finally` are refused at compile time).
  `run_limited` turns it into ScriptLimitExceeded, an ordinary Exception, raised outside the
  handler so that it does not chain the signal and, through its traceback, the script's frames.
- Async exceptions are only delivered between bytecodes: one long C call cannot be interrupted.
  The operator, text and builtin guards cap what a single call may produce for that reason.
- Memory is the RSS growth of the whole process, so a concurrent evaluation that allocates a lot
  can make another evaluation running at the same time hit the limit too. Without
  /proc/self/statm (not Linux) only the CPU limit applies.
"""
from __future__ import annotations

import ctypes
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

from .errors import ScriptLimitExceeded

TICK_SECONDS = 0.01
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
_T = TypeVar("_T")

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.c_void_p)
_set_async_exc.restype = ctypes.c_int


@dataclass(frozen=True)
class ScriptLimits:
    """Resources one evaluation of a script or expression may use."""

    cpu_seconds: float = 2.0
    memory_mb: int = 256

    def __post_init__(self) -> None:
        if self.cpu_seconds <= 0 or self.memory_mb <= 0:
            raise ValueError("script limits must be positive")


def cpu_message(limits: ScriptLimits) -> str:
    return f"the script used more than its CPU time limit of {limits.cpu_seconds:g} s"


def memory_message(limits: ScriptLimits) -> str:
    return f"the script used more than its memory limit of {limits.memory_mb} MB"


class _LimitSignal(BaseException):
    """Raised asynchronously into a script's thread; a BaseException so scripts cannot catch it."""


class _Run:
    """One evaluation the watchdog is watching."""

    __slots__ = ("ident", "limits", "active", "reason", "clock", "cpu_start", "rss_start")

    def __init__(self, limits: ScriptLimits):
        self.ident = threading.get_ident()
        self.limits = limits
        self.active = True
        self.reason: str | None = None
        self.clock: int | None = None
        self.cpu_start = 0.0
        self.rss_start = 0


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except OSError:
        return 0


class _Watchdog:
    """The thread that enforces the limits of all running evaluations."""

    def __init__(self) -> None:
        self.reset_after_fork()

    def reset_after_fork(self) -> None:
        """No runs and no thread: a new watchdog's state, and a forked child's (the watchdog thread does
        not survive fork(); the child starts its own when needed)."""
        self._lock = threading.Lock()
        self._runs: set[_Run] = set()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, run: _Run) -> None:
        with self._lock:
            self._runs.add(run)
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="script-watchdog", daemon=True)
                self._thread.start()
            if not self._wake.is_set():
                self._wake.set()

    def stop(self, run: _Run) -> None:
        """Unregister `run`; once this returns, no signal is pending for or will be sent to it."""
        with self._lock:
            run.active = False
            self._runs.discard(run)
            if run.reason is not None:
                _set_async_exc(run.ident, None)

    def _watch(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(TICK_SECONDS)
            with self._lock:
                if not self._runs:
                    self._wake.clear()
                    continue
                rss = _rss_bytes()
                for run in self._runs:
                    self._enforce(run, rss)

    @staticmethod
    def _enforce(run: _Run, rss: int) -> None:
        if run.clock is None:
            run.clock = time.pthread_getcpuclockid(run.ident)
            run.cpu_start = time.clock_gettime(run.clock)
            run.rss_start = rss
            return
        if run.reason is None:
            run.reason = _exceeded(run, run.clock, rss)
        if run.reason is not None and run.active:
            _set_async_exc(run.ident, id(_LimitSignal))


def _exceeded(run: _Run, clock: int, rss: int) -> str | None:
    limits = run.limits
    if time.clock_gettime(clock) - run.cpu_start > limits.cpu_seconds:
        return cpu_message(limits)
    if rss and rss - run.rss_start > limits.memory_mb * 2**20:
        return memory_message(limits)
    return None


_WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=_WATCHDOG.reset_after_fork)


def run_limited(limits: ScriptLimits, action: Callable[[], _T]) -> _T:
    """Call `action()` under `limits`; raise ScriptLimitExceeded if it went over one."""
    run = _Run(limits)
    try:
        result = _call_watched(run, action)
    except _LimitSignal:
        if run.reason is None:
            raise  # an enclosing evaluation's signal
    except Exception:
        if run.reason is None:
            raise  # else e.g. a MemoryError while over the memory limit: the limit is reported
    else:
        if run.reason is None:
            return result
    raise ScriptLimitExceeded(run.reason)  # outside the handlers (see the module docstring)


def _call_watched(run: _Run, action: Callable[[], _T]) -> _T:
    """Call `action()` watched as `run`, then stop watching without letting a late signal escape.

    Registering inside the `try` means a signal can never arrive before the `finally` is armed.
    `run.active = False` is a plain attribute store (no bytecode boundary where a signal could be
    delivered), after which the watchdog sends at most the one signal it may be sending right
    now. If that signal interrupts the first `stop`, the second one runs with nothing left to
    interrupt it.
    """
    try:
        _WATCHDOG.start(run)
        return action()
    finally:
        run.active = False
        try:
            _WATCHDOG.stop(run)
        except _LimitSignal:
            _WATCHDOG.stop(run)
