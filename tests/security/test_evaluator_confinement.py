"""Evaluators confined further (issue 20): after start-up an evaluator process can neither open
files for writing, create sockets nor start programs, and runs as an unprivileged user when the
server runs as root.

RestrictedPython refuses `open`, `os` and `socket` long before a script could reach the kernel,
so these tests go past it on purpose: with BANKFLOW_EVALUATOR_PROBES=1 (set only here) a real
evaluator, forked by the real zygote and confined exactly as in production, answers "probe"
requests by trying one fixed system call itself (`confine.probe`). Each denial must come back as
a PermissionError with errno 1 (EPERM, the filter's answer; file permissions would give EACCES),
and the evaluator must live on. The targets are in a world-writable directory, so that nothing
but the filter stands in the way.
"""
from __future__ import annotations

import logging
import os
import shutil
import stat
import sys
import tempfile

import pytest

from engine.runtime.sandbox import ScriptLimits, confine
from engine.runtime.sandbox import pool as pool_module
from engine.runtime.sandbox.isolated import IsolatedEnvironment, _answer
from engine.runtime.sandbox.pool import EvaluatorPool
from tests.service.isolation import diagrams as d

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="seccomp is Linux's")

LIMITS = ScriptLimits(cpu_seconds=2, memory_mb=64)
DENIED = "[Errno 1] Operation not permitted"
AS_ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def pool():
    """A pool whose zygote (and so every evaluator) has the probe hook on."""
    saved = os.environ.get(confine.PROBES_VARIABLE)
    os.environ[confine.PROBES_VARIABLE] = "1"
    pool = EvaluatorPool(size=1)
    try:
        pool.request(("ping",), LIMITS)  # starts the zygote with the variable set
    finally:
        if saved is None:
            del os.environ[confine.PROBES_VARIABLE]
        else:
            os.environ[confine.PROBES_VARIABLE] = saved
    yield pool
    pool.close()


@pytest.fixture
def place():
    """A world-writable directory with a world-writable file in it, outside pytest's private tmp."""
    directory = tempfile.mkdtemp(prefix="bankflow-confinement-")
    os.chmod(directory, 0o777)
    target = os.path.join(directory, "existing.txt")
    with open(target, "w") as file:
        file.write("original")
    os.chmod(target, 0o666)
    yield directory, target
    shutil.rmtree(directory)


def probe(pool: EvaluatorPool, kind: str, path: str = ""):
    """What the probe did inside the evaluator; a denial is raised here as the evaluator's error."""
    (value,) = _answer(pool.request(("probe", kind, path), LIMITS), 1)
    return value


def evaluator_pid(pool: EvaluatorPool) -> int:
    return pool.request(("ping",), LIMITS)[2]


def proc_status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as status:
        return dict(line.split(":\t", 1) for line in status.read().splitlines() if ":\t" in line)


def assert_denied(pool: EvaluatorPool, kind: str, path: str = "") -> None:
    pid = evaluator_pid(pool)
    with pytest.raises(PermissionError, match=r"\[Errno 1\] Operation not permitted"):
        probe(pool, kind, path)
    assert evaluator_pid(pool) == pid  # refused, not killed: the same evaluator answers on


# --- the filter is there ----------------------------------------------------------------------


def test_every_evaluator_runs_under_the_seccomp_filter(pool):
    pid = evaluator_pid(pool)
    assert pool.confinement.startswith("seccomp, "), pool.confinement
    status = proc_status(pid)
    assert status["Seccomp"].strip() == "2"  # SECCOMP_MODE_FILTER
    assert status["NoNewPrivs"].strip() == "1"
    # the watchdog thread carries the filter too (TSYNC)
    for thread in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{thread}/status") as task:
            assert "Seccomp:\t2" in task.read()


def test_the_evaluator_drops_root(pool):
    uid, euid, gid, egid, groups = probe(pool, "identity")
    status = proc_status(evaluator_pid(pool))
    if AS_ROOT:
        assert 0 not in (uid, euid, gid, egid) and groups == []
        assert status["Uid"].split()[:4] == [str(uid)] * 4 and status["Groups"].strip() == ""
        assert pool.confinement == f"seccomp, user {confine._unprivileged_ids()[2]}"
    else:  # not root: it stays the server's user, nothing to drop
        assert (uid, gid) == (os.getuid(), os.getgid())


# --- files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["write", "append", "read-write", "create", "truncate-open"])
def test_files_cannot_be_opened_for_writing(pool, place, kind):
    directory, target = place
    path = target if kind != "create" else os.path.join(directory, "new.txt")
    assert_denied(pool, kind, path)
    assert sorted(os.listdir(directory)) == ["existing.txt"]
    with open(target) as file:
        assert file.read() == "original"


@pytest.mark.parametrize("kind", ["mkdir", "unlink", "rename"])
def test_the_file_system_cannot_be_changed(pool, place, kind):
    directory, target = place
    assert_denied(pool, kind, os.path.join(directory, "made") if kind == "mkdir" else target)
    assert sorted(os.listdir(directory)) == ["existing.txt"]


def test_the_process_own_memory_cannot_be_opened_for_writing(pool):
    assert_denied(pool, "read-write", "/proc/self/mem")


def test_reading_files_still_works(pool, place):
    _, target = place
    os.chmod(target, 0o644)
    assert probe(pool, "read", target) == len("original")


# --- sockets -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["socket-inet", "socket-unix", "socketpair"])
def test_sockets_cannot_be_created(pool, kind):
    assert_denied(pool, kind)


# --- programs and processes ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["execv", "fexecve", "posix_spawn", "fork"])
def test_programs_cannot_be_started(pool, kind):
    program = shutil.which("true") or "/bin/true"
    assert os.stat(program).st_mode & stat.S_IXOTH  # runnable by anyone but for the filter
    assert_denied(pool, kind, program)


def test_threads_still_work(pool):
    assert probe(pool, "thread") == sum(range(1000))


@pytest.mark.parametrize("kind", ["kill-parent", "ptrace"])
def test_other_processes_cannot_be_signalled_or_traced(pool, kind):
    assert_denied(pool, kind)


def test_an_evaluator_may_still_signal_itself(pool):
    assert probe(pool, "kill-self") == "signalled"


# --- the hook, the fallback ----------------------------------------------------------------------


def test_the_probe_hook_is_off_unless_asked_for():
    assert confine.PROBES_VARIABLE not in os.environ
    plain = EvaluatorPool(size=1)
    try:
        with pytest.raises(ValueError, match="unknown request 'probe'"):
            _answer(plain.request(("probe", "socket-inet", ""), LIMITS), 1)
    finally:
        plain.close()


def test_without_seccomp_an_evaluator_still_serves_and_says_why():
    """The fallback (not Linux, no libseccomp): confine() as an evaluator would call it, in a
    forked child (it drops root), with the binding taken away."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            confine._seccomp, confine._template = None, None
            confine._SECCOMP_MISSING = "libseccomp is not available (test)"
            os.write(write_end, confine.confine().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 1000).decode()
    os.close(read_end)
    os.waitpid(pid, 0)
    assert answer.startswith("none (libseccomp is not available (test)), ")
    assert answer.endswith("user nobody" if AS_ROOT else f"uid {os.geteuid()}")


def test_an_unconfined_evaluator_is_logged_once(monkeypatch, caplog):
    monkeypatch.setattr(pool_module, "_warned_unconfined", False)
    pool = EvaluatorPool(size=1)
    with caplog.at_level(logging.WARNING, logger="bankflow.evaluators"):
        pool._note_confinement("seccomp, user nobody")
        pool._note_confinement("none (libseccomp is not available), uid 0")
        pool._note_confinement("none (libseccomp is not available), uid 0")
    warnings = [record.getMessage() for record in caplog.records if record.name == "bankflow.evaluators"]
    assert warnings == ["script evaluators are not confined as they should be (their resource limits hold): "
                        "none (libseccomp is not available), uid 0"]
    assert pool.confinement == "none (libseccomp is not available), uid 0"
    assert not confine.is_confined("seccomp, still root ([Errno 1] Operation not permitted)")


# --- ordinary work is unchanged ------------------------------------------------------------------


def test_ordinary_evaluations_still_work(pool):
    env = IsolatedEnvironment(LIMITS, pool=pool)
    data = {"amount": 1200, "opened": "2024-03-01"}
    env.execute("fee = round(amount * 0.01, 2)\nyear = datetime.strptime(opened, '%Y-%m-%d').year\n"
                "today_known = date.today().year > 2000\nrate = Decimal('1.25') * 2", data)
    assert (data["fee"], data["year"], data["today_known"], str(data["rate"])) == (12.0, 2024, True, "2.50")
    assert env.evaluate("amount > 1000 and fee < 20", data) is True


def test_scripts_conditions_and_decisions_still_run_in_cases(ctx):
    case = d.run(ctx, d.script_process("total = sum([100, 250])\nday = datetime.strptime('2024-05-06', '%Y-%m-%d')"
                                       "\nweekday = day.weekday()"))
    assert case.status == "completed", case
    assert case.variables["total"] == 350 and case.variables["weekday"] == 0

    assert d.run(ctx, d.gateway_process("amount > 1000"), {"amount": 5000}).status == "completed"

    table = d.decision_table([("> 700", '"low"'), ("<= 700", '"high"')])
    case = d.run(ctx, d.decision_process(), {"score": 650}, extra=(("risk.dmn", table),))
    assert case.status == "completed", case
    assert case.variables["risk"] == "high"
    assert ctx.script_engine.environment.pool.confinement.startswith("seccomp, ")
