"""The last wall around an evaluator process: an unprivileged user and a seccomp filter.

RestrictedPython, the guards and the resource limits keep scripts from reaching the operating
system at all. This is for code that got past them anyway. Right before an evaluator serves its
first request (its imports done, its watchdog thread started), `confine()`:

1. drops to an unprivileged user when the server runs as root: `nobody` (uid/gid 65534 where
   there is no such entry), with supplementary groups cleared, then the group, then the user.
   Everything the evaluator runs was imported by the zygote before (`prepare`), so it needs to
   read nothing that only the server's user may read; being another user, it can neither signal
   nor trace the server.
2. installs a seccomp filter (libseccomp, through `pyseccomp`) under which these system calls
   fail with EPERM, so code that reaches one gets a PermissionError, which becomes an incident
   like any script error, and the evaluator lives on:
   - writing files: open/openat with O_WRONLY, O_RDWR, O_CREAT, O_TRUNC or O_APPEND; creat,
     openat2 (its flags are in a struct a filter cannot read), open_by_handle_at; and changing
     the file system: rename*, unlink*, rmdir, mkdir*, link*, symlink*, mknod*, chmod*, chown*,
     truncate, utime*, set/removexattr*;
   - sockets: socket, socketpair (an evaluator talks only over the socket it was started with);
   - starting programs and processes: execve, execveat, fork, vfork and clone without
     CLONE_THREAD; threads still work (clone3, whose flags a filter cannot read, fails with
     ENOSYS, so the C library falls back to clone);
   - reaching other processes: ptrace, process_vm_readv/writev, pidfd_open, tkill, and kill,
     tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo to any process but itself;
   - io_uring_setup/enter/register (io_uring opens files and sockets unseen by seccomp).
   The filter applies to every thread (TSYNC) and sets no_new_privs; a system call through a
   foreign ABI (int 0x80 on x86_64) ends the process. Reading files, memory, the pipes and
   descriptors already open (its socket, /dev/null) and the resource limits are untouched.

Without seccomp (not Linux, no libseccomp.so.2, a kernel or container that refuses filters) an
evaluator runs with the resource limits only and says so in its first answer; the pool logs that
once per process. `probe` is a test hook (see BANKFLOW_EVALUATOR_PROBES) that proves the denials
from inside a real evaluator.
"""
from __future__ import annotations

import ctypes
import errno
import os
import sys
import threading
from typing import Any

try:
    import pwd
except ImportError:  # not a Unix
    pwd = None  # type: ignore[assignment]

_seccomp: Any = None  # the pyseccomp module once `_load_binding` found it
_SECCOMP_MISSING = ""

UNPRIVILEGED_USER = "nobody"
FALLBACK_ID = 65534
PROBES_VARIABLE = "BANKFLOW_EVALUATOR_PROBES"

_WRITE_FLAGS = (os.O_WRONLY, os.O_RDWR, os.O_CREAT, os.O_TRUNC, os.O_APPEND)
_FLAGS_ARGUMENT = {"open": 1, "openat": 2}
_CLONE_THREAD = 0x00010000
_CLONE_FLAGS_ARGUMENT = 1 if os.uname().machine.startswith("s390") else 0  # s390 swaps clone's arguments
_DENIED = (
    # writing files and changing the file system
    "creat", "openat2", "open_by_handle_at",
    "rename", "renameat", "renameat2", "unlink", "unlinkat", "rmdir", "mkdir", "mkdirat",
    "link", "linkat", "symlink", "symlinkat", "mknod", "mknodat",
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat", "truncate",
    "utime", "utimes", "futimesat", "utimensat",
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    # sockets
    "socket", "socketpair",
    # programs and processes
    "execve", "execveat", "fork", "vfork",
    # other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open", "tkill",
    # io_uring does its own opens and connects, which seccomp does not see
    "io_uring_setup", "io_uring_enter", "io_uring_register",
)
_NEWER_CALLS = {"fchmodat2": 452}  # Linux 6.6; libseccomp knows it from 2.5.5 on
_SIGNALS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")  # allowed to itself only

_ids: tuple[int, int, str] | None = None
_template: Any = None  # the filter but for its rules on signals, built once in the zygote


def prepare() -> None:
    """In the zygote, before any evaluator is forked: everything `confine` and the evaluations
    would otherwise load lazily, from files the unprivileged user may not be able to read, and
    the filter's rules (an evaluator adds the ones naming its pid and loads it)."""
    global _ids, _template
    _ids = _unprivileged_ids()
    if _load_binding():
        try:
            _template = _base_filter()
        except Exception:  # noqa: BLE001 - confine() tries again and reports why
            _template = None
    # datetime.strptime imports _strptime on first use; typeshed has no stub for this private module
    import _strptime  # type: ignore[import-not-found]  # noqa: F401
    import time  # noqa: F401
    time.localtime()  # reads the time zone (/etc/localtime) once


def _load_binding() -> bool:
    """Import pyseccomp (in the zygote and evaluators only: it runs `ldconfig -p` to find the
    library, nothing the server needs at import)."""
    global _seccomp, _SECCOMP_MISSING
    if _seccomp is None and not _SECCOMP_MISSING:
        try:
            import pyseccomp
            _seccomp = pyseccomp
        except (ImportError, RuntimeError, OSError) as exc:  # not Linux, or no libseccomp.so.2
            _SECCOMP_MISSING = f"libseccomp is not available ({exc})"
    return _seccomp is not None


def _unprivileged_ids() -> tuple[int, int, str]:
    if pwd is not None:
        try:
            entry = pwd.getpwnam(UNPRIVILEGED_USER)
            return entry.pw_uid, entry.pw_gid, UNPRIVILEGED_USER
        except KeyError:
            pass
    return FALLBACK_ID, FALLBACK_ID, str(FALLBACK_ID)


def confine() -> str:
    """Drop to an unprivileged user if root, then install the filter; never raises.

    Returns what holds, for the server's log: "seccomp, user nobody" or "none (why), uid 1000".
    """
    sys.dont_write_bytecode = True  # no attempts to cache an import once writing is denied
    user = _drop_privileges()
    if not _load_binding():
        return f"none ({_SECCOMP_MISSING}), {user}"
    try:
        rules = _template if _template is not None else _base_filter()
        _add_signal_rules(rules, os.getpid())
        rules.load()
    except Exception as exc:  # noqa: BLE001 - the evaluator serves on, and the server logs why
        return f"none (the seccomp filter could not be installed: {exc}), {user}"
    return f"seccomp, {user}"


def is_confined(confinement: str) -> bool:
    """Whether what `confine` returned means the filter holds (and root was dropped, if root)."""
    return confinement.startswith("seccomp, ") and "still root" not in confinement


def _drop_privileges() -> str:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return f"uid {os.geteuid()}" if hasattr(os, "geteuid") else "user unknown"
    uid, gid, name = _ids or _unprivileged_ids()
    try:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    except OSError as exc:
        return f"still root ({exc})"
    return f"user {name}"


def _base_filter() -> Any:
    assert _seccomp is not None
    deny = _seccomp.ERRNO(errno.EPERM)
    rules = _seccomp.SyscallFilter(_seccomp.ALLOW)
    rules.set_attr(_seccomp.Attr.ACT_BADARCH, _seccomp.KILL_PROCESS)
    rules.set_attr(_seccomp.Attr.CTL_TSYNC, 1)  # the watchdog thread already runs
    for name, index in _FLAGS_ARGUMENT.items():
        for flag in _WRITE_FLAGS:  # one rule per flag: rules on the same call are alternatives
            _add(rules, deny, name, _seccomp.Arg(index, _seccomp.MASKED_EQ, flag, flag))
    for name in _DENIED:
        _add(rules, deny, name)
    _add(rules, deny, "clone", _seccomp.Arg(_CLONE_FLAGS_ARGUMENT, _seccomp.MASKED_EQ, _CLONE_THREAD, 0))
    _add(rules, _seccomp.ERRNO(errno.ENOSYS), "clone3")
    return rules


def _add_signal_rules(rules: Any, pid: int) -> None:
    for name in _SIGNALS:
        _add(rules, _seccomp.ERRNO(errno.EPERM), name, _seccomp.Arg(0, _seccomp.NE, pid))


def _add(rules: Any, action: int, name: str, *arguments: Any) -> None:
    number = _seccomp.resolve_syscall(_seccomp.Arch.NATIVE, name)
    if number == -1:  # newer than this libseccomp: its number, the same on every architecture but alpha
        number = _NEWER_CALLS.get(name, -1) if os.uname().machine in ("x86_64", "aarch64") else -1
        if number == -1:
            return
    rules.add_rule(action, number, *arguments)


# --- test hook --------------------------------------------------------------------------------


def probes_enabled() -> bool:
    return os.environ.get(PROBES_VARIABLE) == "1"


def probe(kind: str, path: str) -> Any:
    """Try one thing the filter denies, from inside an evaluator, without the sandbox in front.

    Only with BANKFLOW_EVALUATOR_PROBES=1 in the server's environment (tests). Each kind is a
    fixed action on `path`; a denial raises the OSError the kernel gave, an allowed one returns
    what happened.
    """
    if kind == "identity":
        return [os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups()]
    if kind == "read":
        with open(path, "rb") as source:
            return len(source.read(1 << 16))
    if kind in ("write", "append", "read-write"):
        with open(path, {"write": "w", "append": "a", "read-write": "r+"}[kind]):
            return "opened"
    if kind == "create":
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
        return "created"
    if kind == "truncate-open":
        os.close(os.open(path, os.O_RDONLY | os.O_TRUNC))
        return "truncated"
    if kind == "mkdir":
        os.mkdir(path)
        return "made"
    if kind == "unlink":
        os.unlink(path)
        return "removed"
    if kind == "rename":
        os.rename(path, path + ".renamed")
        return "renamed"
    if kind == "socket-inet":
        import socket
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
        return "socket"
    if kind == "socket-unix":
        import socket
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close()
        return "socket"
    if kind == "socketpair":
        import socket
        for end in socket.socketpair():
            end.close()
        return "socketpair"
    if kind == "execv":
        os.execv(path, [path])
    if kind == "fexecve":
        fd = os.open(path, os.O_RDONLY)
        try:
            os.execve(fd, [path], {})
        finally:
            os.close(fd)
    if kind == "posix_spawn":
        pid = os.posix_spawn(path, [path], {})
        os.waitpid(pid, 0)
        return "spawned"
    if kind == "fork":
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        return "forked"
    if kind == "thread":
        result: list[int] = []
        worker = threading.Thread(target=lambda: result.append(sum(range(1000))))
        worker.start()
        worker.join()
        return result[0]
    if kind == "kill-parent":
        os.kill(os.getppid(), 0)
        return "signalled"
    if kind == "kill-self":
        os.kill(os.getpid(), 0)
        return "signalled"
    if kind == "ptrace":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.ptrace(16, os.getppid(), None, None) != 0:  # PTRACE_ATTACH
            number = ctypes.get_errno()
            raise OSError(number, os.strerror(number))
        libc.ptrace(17, os.getppid(), None, None)  # PTRACE_DETACH
        return "attached"
    raise ValueError(f"unknown probe {kind!r}")
