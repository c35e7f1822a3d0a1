"""`bankflow serve`'s worker: the worker loop (`engine.services.worker.run`) in a background thread.

The thread has its own engine context over the same database (its own connection pool,
definition cache and script engine; SQLite serialises writers with its busy timeout, so web
requests and the worker's passes wait for each other instead of failing), its own worker id,
and is a daemon: it never keeps the process alive, and `stop` ends it after the pass under
way. A failing pass is logged and the next one runs; nothing it raises reaches the server.
Production runs separate `bankflow worker` processes instead (`bankflow serve --no-worker`).
"""
from __future__ import annotations

import logging
import threading

from engine.services import database, worker
from engine.services.context import EngineContext

log = logging.getLogger("bankflow.worker")
STOP_SECONDS = 30.0  # how long `stop` waits for the pass under way


class BackgroundWorker:
    def __init__(self, web_context: EngineContext, worker_id: str, interval: float):
        self.worker_id, self.interval = worker_id, interval
        self._web_context = web_context
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _own_context(self) -> EngineContext:
        shared = self._web_context.database
        if not shared.reachable_by_url:
            return self._web_context  # a private in-memory database exists only in the web's engine
        return database.open_context(shared.url_with_password, clock=self._web_context.clock)

    def start(self) -> "BackgroundWorker":
        self._thread = threading.Thread(target=self._run, name=f"worker {self.worker_id}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        ctx = None
        try:
            ctx = self._own_context()
            worker.run(ctx, self.worker_id, interval=self.interval, stop=self._stop)
        except BaseException:  # never reaches the server; the web app keeps serving without a worker
            log.exception("worker %s stopped; run `bankflow worker` to fire timers and answer service tasks",
                          self.worker_id)
        finally:
            if ctx is not None and ctx is not self._web_context:
                ctx.close()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Ask the loop to end and wait for the pass under way (at most `timeout` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
