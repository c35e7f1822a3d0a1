"""The evaluator processes: what crosses the boundary, and what happens when one crashes, hangs,
overruns or dies while idle. The server process (this test process) must never be harmed."""
from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from datetime import date, datetime, time as clock_time, timedelta, timezone
from decimal import Decimal

import pytest

from engine.runtime.sandbox import IsolatedEnvironment, SandboxViolation, ScriptLimitExceeded, ScriptLimits
from engine.runtime.sandbox.isolated import ScriptError, rebuild_error
from engine.runtime.sandbox.pool import EvaluatorPool, wall_seconds
from engine.runtime.sandbox.wire import MAX_FRAME, WireError, decode, encode

LIMITS = ScriptLimits(cpu_seconds=0.5, memory_mb=64)
CRASH = "x = [1]\nfor i in range(400000):\n    x = map(abs, x)\nn = len(list(x))"


@pytest.fixture(scope="module")
def pool():
    pool = EvaluatorPool(size=2)
    yield pool
    pool.close()


@pytest.fixture
def env(pool):
    return IsolatedEnvironment(ScriptLimits(cpu_seconds=3, memory_mb=64), pool=pool)


def test_scripts_change_task_data_as_in_the_sandbox(env):
    data = {"a": 1, "customer": {"name": "Ada"}, "gone": True}
    env.execute("b = a + 1\ncustomer['checked'] = True\ndel gone\npair = (1, 2)", data)
    assert data == {"a": 1, "customer": {"name": "Ada", "checked": True}, "b": 2, "pair": [1, 2]}


def test_expressions_and_literals(env):
    assert env.evaluate("amount > 10", {"amount": 11}) is True
    assert env.evaluate("'PT5M'", {}) == "PT5M" and env.evaluate(" 12 ", {}) == 12  # answered here


def test_typed_values_cross_exactly(env):
    values = {"d": Decimal("-1.50"), "day": date(2026, 1, 2), "at": datetime(2026, 1, 2, 3, 4, 5, 6, timezone.utc),
              "t": clock_time(1, 2, 3), "w": timedelta(days=1, microseconds=1), "big": 2**200, "text": "é" * 10}
    assert env.evaluate("[d, day, at, t, w, big, text]", dict(values)) == list(values.values())


def test_errors_come_back_as_the_same_types_with_their_line(env):
    with pytest.raises(ZeroDivisionError) as caught:
        env.execute("a = 1\nb = a / 0", {})
    assert caught.value.script_line == 2
    with pytest.raises(SandboxViolation):
        env.execute("x = (1).__class__", {})
    with pytest.raises(NameError):
        env.evaluate("missing > 1", {})
    assert isinstance(rebuild_error("NoSuchError", "boom", None), ScriptError)
    assert type(rebuild_error("NoSuchError", "boom", None)).__name__ == "NoSuchError"
    assert type(rebuild_error("not a name!", "boom", None)) is ScriptError


def test_a_crash_ends_the_evaluator_not_the_server(env, pool):
    started = pool.started
    with pytest.raises(ScriptLimitExceeded, match="crashed the script runner .SIGSEGV"):
        env.execute(CRASH, {})
    assert env.evaluate("1 + 1", {}) == 2
    assert pool.started > started


def test_a_long_c_call_is_stopped_by_the_cpu_backstop(pool):
    env = IsolatedEnvironment(LIMITS, pool=pool)
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match="CPU time limit of 0.5 s|did not finish"):
        env.execute("n = int('f' * 2000000, 16) // int('e' * 1000000, 16)", {})
    assert time.monotonic() - started < wall_seconds(LIMITS) + 2


def test_one_huge_allocation_hits_the_memory_limit(pool):
    env = IsolatedEnvironment(LIMITS, pool=pool)
    with pytest.raises(ScriptLimitExceeded, match="memory limit of 64 MB"):
        env.execute("n = len(format(Decimal('1e2000000000'), 'f'))", {})


def test_a_hung_evaluator_is_killed_at_the_wall_clock_deadline(pool):
    env = IsolatedEnvironment(ScriptLimits(cpu_seconds=0.1, memory_mb=64), pool=pool)
    env.evaluate("1", {})
    stopped = []

    def stop_the_busy_evaluator() -> None:
        time.sleep(0.3)
        for pid in _evaluator_pids():
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)

    threading.Thread(target=stop_the_busy_evaluator).start()
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match="did not finish within|CPU time limit"):
        env.execute("while True:\n    pass", {})
    assert time.monotonic() - started < wall_seconds(env.limits) + 2
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert env.evaluate("2 + 2", {}) == 4


def _evaluator_pids() -> list[int]:
    """Evaluators are grandchildren (children of the zygote, a child of this process)."""
    mine, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{parent}/stat") as stat:
                    grandparent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if grandparent == mine:
                found.append(int(entry))
    return found


def test_an_evaluator_that_died_while_idle_is_replaced_without_blaming_the_script(env):
    env.evaluate("1", {})
    for pid in _evaluator_pids():
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert env.evaluate("3 * 3", {}) == 9


def test_threads_share_the_pool(env):
    results: list[object] = []

    def work(number: int) -> None:
        results.append(env.evaluate("n * 2", {"n": number}))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 2, 4, 6, 8, 10]


def test_a_forked_child_starts_its_own_evaluators(env):
    env.evaluate("1", {})
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        try:
            os._exit(0 if env.evaluate("40 + 2", {}) == 42 else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert env.evaluate("5 - 1", {}) == 4, "the parent's evaluators were not disturbed"


def test_replies_may_only_hold_plain_data():
    assert decode(encode(("ok", False, [Decimal("1"), {"a": date(2026, 1, 1)}]))) == \
        ("ok", False, [Decimal("1"), {"a": date(2026, 1, 1)}])
    with pytest.raises(WireError):
        decode(pickle.dumps(os.system))
    with pytest.raises(WireError):
        decode(b"\x80\x05garbage")
    assert MAX_FRAME <= 64 * 2**20


def test_evaluators_do_not_inherit_the_servers_secrets(monkeypatch):
    monkeypatch.setenv("BANKFLOW_SECRET_KEY", "do-not-leak")
    pool = EvaluatorPool(size=1)
    try:
        pid = _evaluator_pids_after(pool)
        with open(f"/proc/{pid}/environ", "rb") as environ:
            assert b"do-not-leak" not in environ.read()
    finally:
        pool.close()


def _evaluator_pids_after(pool: EvaluatorPool) -> int:
    IsolatedEnvironment(LIMITS, pool=pool).evaluate("1 + 1", {})
    evaluator = pool._idle[0]
    return evaluator.pid
