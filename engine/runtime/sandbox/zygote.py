"""The fork server evaluator processes are forked from.

Forking evaluators from the server itself would copy a threaded web process (unsafe: another
thread may hold a lock at fork time) and all its memory; starting a fresh interpreter for each
would cost a quarter of a second. So each server process starts one small helper process, the
zygote, with a clean interpreter that has imported only the sandbox, and asks it to fork each
evaluator. The zygote runs no untrusted code itself and keeps the server's user; it also loads
what evaluators need before they confine themselves (`confine.prepare`: the seccomp binding and
the filter's rules, the unprivileged user's ids, modules the C code imports lazily).

Protocol, over a Unix stream socket (`Zygote` is the server's side):
- "spawn" with one file descriptor attached (the evaluator's end of its socket pair): the
  zygote forks; the child serves requests on that descriptor (`evaluator_process.serve`) and the zygote
  answers the child's pid;
- "reap PID": the zygote waits for that child and answers its wait status, so the server can
  tell a crash (SIGSEGV) from a CPU overrun (SIGPROF) or a kill.
The zygote exits when the server's end closes; evaluators exit when their own socket closes, so
nothing outlives the server.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

_LINE = 64


class ZygoteError(Exception):
    """The zygote could not be started or stopped answering."""


class Zygote:
    """The server's handle on its zygote process."""

    def __init__(self, timeout: float = 60.0):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        command = ("import sys; sys.path[:0] = %r; from engine.runtime.sandbox.zygote import main; main(%d)"
                   % (list(sys.path), theirs.fileno()))
        self.process = subprocess.Popen([sys.executable, "-I", "-c", command], pass_fds=[theirs.fileno()],
                                        stdin=subprocess.DEVNULL, close_fds=True, env=_environment())
        theirs.close()
        self.socket = ours
        self.socket.settimeout(timeout)
        self.lock = threading.Lock()
        self.owner = os.getpid()
        try:
            if self._receive() != "ready":
                raise ZygoteError("the zygote did not start")
        except (OSError, ZygoteError) as exc:
            self.close()
            raise ZygoteError(f"the script runners' fork server could not start ({exc})") from None

    def spawn(self) -> tuple[socket.socket, int]:
        """A new evaluator: the server's end of its socket, and its pid."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self.lock:
                socket.send_fds(self.socket, [b"spawn\n"], [theirs.fileno()])
                answer = self._receive()
        except OSError as exc:
            ours.close()
            raise ZygoteError(f"the fork server stopped answering ({exc})") from None
        finally:
            theirs.close()
        if not answer.startswith("pid "):
            ours.close()
            raise ZygoteError(f"the fork server could not fork ({answer})")
        return ours, int(answer[4:])

    def reap(self, pid: int) -> int | None:
        """The wait status of a child that ended (or was killed), or None if unknown."""
        try:
            with self.lock:
                self.socket.sendall(f"reap {pid}\n".encode())
                answer = self._receive()
        except (OSError, ZygoteError):
            return None
        return int(answer[7:]) if answer.startswith("status ") else None

    def _receive(self) -> str:
        data = b""
        while not data.endswith(b"\n"):
            chunk = self.socket.recv(_LINE)
            if not chunk:
                raise ZygoteError("the fork server exited")
            data += chunk
        return data.decode().strip()

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        try:
            self.socket.close()
        except OSError:
            pass
        if os.getpid() == self.owner:
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def forget(self) -> None:
        """In a forked child: drop the parent's zygote without touching it."""
        try:
            self.socket.close()
        except OSError:
            pass


# The only environment variables evaluators see: none of the server's secrets (database URL,
# secret key, SMTP password) are in reach of the code they run, even if it got out of the sandbox.
_PASSED_ON = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "BANKFLOW_EVALUATOR_STDERR", "BANKFLOW_EVALUATOR_SPIN_US",
              "BANKFLOW_EVALUATOR_PROBES")


def _environment() -> dict[str, str]:
    return {name: os.environ[name] for name in _PASSED_ON if name in os.environ}


def _serve_child(fd: int, control: socket.socket) -> None:
    control.close()
    from .evaluator_process import serve_fd
    serve_fd(fd)


def main(fd: int) -> None:
    """The zygote's loop (run in a fresh interpreter by `Zygote`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    control = socket.socket(fileno=fd)
    from . import confine, evaluator_process  # noqa: F401 - imported once here, inherited by every evaluator
    confine.prepare()  # what evaluators would load lazily, before they drop to an unprivileged user

    control.sendall(b"ready\n")
    finished: dict[int, int] = {}
    buffer = b""
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, _LINE, 1)
        except OSError:
            break
        if not message:
            break
        buffer += message
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            command = line.decode(errors="replace")
            if command == "spawn" and fds:
                _sweep(finished)
                child_fd = fds.pop()
                pid = os.fork()
                if pid == 0:
                    _serve_child(child_fd, control)
                    os._exit(0)
                os.close(child_fd)
                control.sendall(f"pid {pid}\n".encode())
            elif command.startswith("reap "):
                control.sendall(f"status {_reap(int(command[5:]), finished)}\n".encode())
            else:
                control.sendall(b"error unknown command\n")
        for extra in fds:
            os.close(extra)
    os._exit(0)


def _sweep(finished: dict[int, int]) -> None:
    """Reap children that ended without the server asking (it was interrupted, say)."""
    while len(finished) < 10_000:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            return
        finished[pid] = status


def _reap(pid: int, finished: dict[int, int]) -> int:
    if pid in finished:
        return finished.pop(pid)
    deadline = time.monotonic() + 5
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return -1
        if done:
            return status
        if time.monotonic() > deadline:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            done, status = os.waitpid(pid, 0)
            return status
        time.sleep(0.005)
