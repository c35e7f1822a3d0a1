"""The evaluator processes of this server process: started on demand, reused, replaced when they die.

Every script, condition, timer expression and decision table from an uploaded file is evaluated
in one of these (see `evaluator_process`), never in the server itself, so that no diagram can crash, hang
or exhaust the web process or the worker:

- a request that does not come back before its wall-clock deadline gets its evaluator killed
  (SIGKILL); an evaluator that dies (a SIGSEGV from exhausting the C stack, its CPU backstop, an
  out-of-memory kill) is reaped. Either way the caller gets ScriptLimitExceeded with a message
  for the incident, and the next request starts a fresh evaluator;
- evaluators are forked from a small fork server that has only the sandbox imported (`zygote`),
  not from the server: a fork of a threaded web process is unsafe, and a fresh interpreter per
  evaluator would cost a quarter of a second;
- one pool per OS process, shared by all engine contexts and threads; at most `size`
  evaluators (BANKFLOW_EVALUATORS, default 4) run at once, further callers wait for one;
- a process forked from a server (gunicorn's workers) starts its own evaluators;
- each evaluator confines itself before serving (`confine`: an unprivileged user when the server
  runs as root, a seccomp filter against writing files, sockets and starting programs) and says
  so in its first answer (`EvaluatorPool.confinement`); when the filter or the drop did not
  hold, the pool logs a warning, once per process.

Cost: one round trip per evaluation, about 30-60 us on an idle machine on top of the
evaluation itself (`bench/run.py` measures it).
"""
from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import threading
import time
from typing import Any

from .confine import is_confined
from .errors import ScriptLimitExceeded
from .limits import ScriptLimits, cpu_message, memory_message
from .wire import FrameReader, PeerGone, Timeout, WireError, decode, encode, write_frame
from .evaluator_process import cpu_grace
from .zygote import Zygote, ZygoteError

START_SECONDS = 60.0          # the first start also starts the fork server (a new interpreter)
WAIT_FOR_EVALUATOR_SECONDS = 60.0
DEFAULT_SIZE = 4
SPIN_MICROSECONDS = 150
_TICKS = os.sysconf("SC_CLK_TCK")
log = logging.getLogger("bankflow.evaluators")
_warned_unconfined = False


def wall_seconds(limits: ScriptLimits) -> float:
    """How long the server waits for one evaluation before it kills the evaluator: four times
    the CPU time an evaluation may use and two seconds (12 s for the default 2 s), so a busy
    machine, where an evaluator gets a fraction of a core, does not cut off scripts that stay
    within their CPU limit; the CPU backstop normally ends an overrun long before."""
    return 4 * (limits.cpu_seconds + cpu_grace(limits.cpu_seconds)) + 2.0


class _Evaluator:
    """One evaluator process and the server's end of its socket."""

    def __init__(self, zygote: Zygote):
        self.zygote = zygote
        self.socket, self.pid = zygote.spawn()
        self.fd = self.socket.fileno()
        self.reader = FrameReader(self.fd)
        self._idle_poll = select.poll()
        self._idle_poll.register(self.fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        self.status: int | None = None
        try:
            hello = decode(self.reader.read(time.monotonic() + START_SECONDS))
        except WireError:
            self.kill()
            raise ScriptLimitExceeded("the script runner could not be started") from None
        if not (isinstance(hello, tuple) and hello[:1] == ("ok",)):
            self.kill()
            raise ScriptLimitExceeded("the script runner could not be started")
        self.confinement = str(hello[3])[:300] if len(hello) > 3 else "unknown"

    def ask(self, payload: bytes, deadline: float) -> Any:
        write_frame(self.fd, payload)
        return decode(self.reader.read(deadline))

    def alive(self) -> bool:
        """False once the process hung up (it died or retired while idle); one poll, no wait."""
        return not any(events & (select.POLLHUP | select.POLLERR | select.POLLIN)
                       for _, events in self._idle_poll.poll(0))

    def cpu_seconds(self) -> float | None:
        """CPU time the process has used so far, or None when it is gone."""
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / _TICKS
        except (OSError, IndexError, ValueError):
            return None

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.close()

    def close(self) -> None:
        """Close the socket (the process exits if it was waiting) and reap the process."""
        try:
            self.socket.close()
        except OSError:
            pass
        if self.status is None and os.getpid() == self.zygote.owner:
            self.status = self.zygote.reap(self.pid)

    def death(self) -> str:
        """Why the process ended, once its socket closed."""
        self.close()
        status = self.status
        if status is None or status < 0:
            return "unknown"
        if os.WIFSIGNALED(status):
            try:
                return signal.Signals(os.WTERMSIG(status)).name
            except ValueError:
                return f"signal {os.WTERMSIG(status)}"
        return f"exit code {os.WEXITSTATUS(status)}"


class EvaluatorPool:
    """Evaluator processes shared by every thread of this process."""

    def __init__(self, size: int | None = None):
        self.size = max(1, size or int(os.environ.get("BANKFLOW_EVALUATORS", DEFAULT_SIZE)))
        self._idle: list[_Evaluator] = []
        self._running = 0
        self._condition = threading.Condition()
        self._owner = os.getpid()
        self._zygote: Zygote | None = None
        self._zygote_lock = threading.Lock()
        self.started = 0  # evaluators started over the pool's life (tests and the bench read it)
        self.confinement: str | None = None  # what the latest evaluator said holds (`confine.confine`)
        # How long a caller waits awake for an answer before sleeping (most answers take tens of us).
        self.spin = int(os.environ.get("BANKFLOW_EVALUATOR_WAIT_AWAKE_US", SPIN_MICROSECONDS)) / 1e6

    def request(self, message: tuple[Any, ...], limits: ScriptLimits, evaluations: int = 1) -> tuple[Any, ...]:
        """Send one request of `evaluations` evaluations, each within `limits`; the reply, or
        ScriptLimitExceeded saying what went wrong."""
        op, *arguments = message
        try:
            payload = encode((op, limits.cpu_seconds, limits.memory_mb, *arguments))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise TypeError(f"the task data holds a value that is not data ({exc})") from None
        wall = wall_seconds(limits) * evaluations
        evaluator = self._checkout()
        try:
            try:
                write_frame(evaluator.fd, payload)
            except PeerGone:  # it died while idle (it never saw this request): use a fresh one
                self._lose(evaluator, kill=True)
                evaluator = self._checkout()
                write_frame(evaluator.fd, payload)
            reply = decode(evaluator.reader.read(time.monotonic() + wall, spin=self.spin))
        except Timeout:
            used = evaluator.cpu_seconds()
            self._lose(evaluator, kill=True)
            if used is not None and used >= limits.cpu_seconds:
                raise ScriptLimitExceeded(cpu_message(limits)) from None
            raise ScriptLimitExceeded(f"the script did not finish within {wall:g} s") from None
        except (PeerGone, WireError):
            cause = evaluator.death()
            self._lose(evaluator, kill=True)
            raise ScriptLimitExceeded(_death_message(cause, limits)) from None
        except BaseException:
            self._lose(evaluator, kill=True)  # interrupted mid-request: its state is unknown
            raise
        if isinstance(reply, tuple) and len(reply) >= 2 and reply[1] is True:
            self._lose(evaluator, kill=False)
        else:
            self._checkin(evaluator)
        return reply

    def _checkout(self) -> _Evaluator:
        self._forget_if_forked()
        deadline = time.monotonic() + WAIT_FOR_EVALUATOR_SECONDS
        with self._condition:
            while not self._idle and self._running >= self.size:
                if not self._condition.wait(max(0.0, deadline - time.monotonic())):
                    raise ScriptLimitExceeded("every script runner is busy; try again in a moment")
            while self._idle:
                evaluator = self._idle.pop()
                if evaluator.alive():
                    return evaluator
                self._running -= 1
                self._discard_quietly(evaluator)
            self._running += 1
        try:
            evaluator = _Evaluator(self._live_zygote())
        except ZygoteError as exc:
            with self._condition:
                self._running -= 1
                self._condition.notify()
            raise ScriptLimitExceeded(f"the script runner could not be started: {exc}") from None
        except BaseException:
            with self._condition:
                self._running -= 1
                self._condition.notify()
            raise
        self.started += 1
        self._note_confinement(evaluator.confinement)
        return evaluator

    def _note_confinement(self, confinement: str) -> None:
        global _warned_unconfined
        self.confinement = confinement
        if not is_confined(confinement) and not _warned_unconfined:
            _warned_unconfined = True
            log.warning("script evaluators are not confined as they should be (their resource limits hold): %s",
                        confinement)

    @staticmethod
    def _discard_quietly(evaluator: _Evaluator) -> None:
        try:
            evaluator.socket.close()
        except OSError:
            pass

    def _live_zygote(self) -> Zygote:
        with self._zygote_lock:
            if self._zygote is None or not self._zygote.alive():
                if self._zygote is not None:
                    self._zygote.close()
                self._zygote = Zygote()
            return self._zygote

    def _checkin(self, evaluator: _Evaluator) -> None:
        with self._condition:
            if os.getpid() == self._owner:
                self._idle.append(evaluator)
            self._condition.notify()

    def _lose(self, evaluator: _Evaluator, kill: bool) -> None:
        if kill:
            evaluator.kill()
        else:
            evaluator.close()
        with self._condition:
            self._running -= 1
            self._condition.notify()

    def _forget_if_forked(self) -> None:
        """In a process forked from the owner the evaluators belong to the owner: start afresh.
        Runs in the child right after fork, when it has a single thread (no lock is taken: one
        held by another thread of the parent at fork time would never be released)."""
        if os.getpid() == self._owner:
            return
        for evaluator in self._idle:
            try:
                evaluator.socket.close()
            except OSError:
                pass
        if self._zygote is not None:
            self._zygote.forget()
        self._idle, self._running, self._owner, self._zygote = [], 0, os.getpid(), None
        self._condition = threading.Condition()
        self._zygote_lock = threading.Lock()

    def close(self) -> None:
        """Stop the idle evaluators (busy ones stop when their pipe closes)."""
        with self._condition:
            idle, self._idle = self._idle, []
            self._running -= len(idle)
        for evaluator in idle:
            evaluator.close()
        with self._zygote_lock:
            if self._zygote is not None:
                self._zygote.close()
                self._zygote = None


def _death_message(cause: str, limits: ScriptLimits) -> str:
    if cause in ("SIGPROF", "SIGXCPU"):
        return cpu_message(limits)
    if cause == "SIGKILL":  # the kernel's out-of-memory killer
        return memory_message(limits)
    return (f"the script crashed the script runner ({cause}; for example by nesting values or calls too "
            "deeply); the server was not affected")


_POOL: EvaluatorPool | None = None
_POOL_LOCK = threading.Lock()


def evaluator_pool() -> EvaluatorPool:
    """This process's pool, created on first use."""
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = EvaluatorPool()
    return _POOL


def _after_fork_in_child() -> None:
    """A forked child (a gunicorn worker, say) starts its own evaluators and zygote."""
    if _POOL is not None:
        _POOL._forget_if_forked()


os.register_at_fork(after_in_child=_after_fork_in_child)
