"""``scout run`` ends within seconds of SIGTERM or SIGINT, and the run it stopped says so.

What Dagster does by itself when a job runs in process (read in ``dagster/_utils/interrupts.py``,
``_core/execution/api.py``, ``_core/execution/plan/utils.py``), and why that is not enough here:

- ``execute_in_process`` runs under ``capture_interrupts()``, which points SIGINT *and* SIGTERM
  at a handler that only sets a flag. Inside a step's own code Dagster swaps in a handler that
  raises ``DagsterExecutionInterruptedError`` at once, so a step's ``time.sleep`` (the HTTP
  client's back-off and Retry-After waits, the labeler's, the DuckDB lock wait) is cut short:
  those sleeps need nothing more.
- But a step with a ``RetryPolicy`` (the dbt steps have one) turns that interruption into a
  retry, and between steps the orchestrator sleeps the retry delay (and waits for pool slots)
  in ``ActiveExecution.sleep_til_ready`` with the signal only flagged: the run goes on for the
  whole delay and then runs the step again.
- The job ends with a failed result (``raise_on_error=False``), the handlers are put back, and a
  program that runs several jobs starts the next one. Before the first job, SIGTERM still has
  its default action and kills the process without a word.

So ``StopSignals``, installed for the whole of ``scout run``:

1. handles SIGINT and SIGTERM itself between jobs: it notes the signal and raises
   ``StopRequested`` (deferred while a failure is being recorded, so that row is written);
2. learns of a signal that arrives while a job runs through ``signal.set_wakeup_fd`` (Python
   writes every caught signal's number there, whichever handler Dagster installed). A watcher
   thread then marks the run CANCELING in the Dagster instance and pokes the main thread with
   SIGUSR1 until the job returns. The SIGUSR1 handler raises ``DagsterExecutionInterruptedError``
   only when the main thread is asleep in ``sleep_til_ready``, the one place Dagster would have
   raised it had it not merely flagged the signal; Dagster's run loop handles that exception
   (resources torn down, the run recorded as CANCELED);
3. after the job, ``watching_run`` records a failed or stopped run in ``run_failures`` (through
   ``sensors.run_failures``) and raises ``StopRequested``, so no further job starts.

Stored data stays intact: every warehouse write is one transaction, so a run cut off mid-way
either wrote a page (and its ledger rows) whole or not at all.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Dagster is imported when the signals are installed, so `scout --help` stays quick
    import dagster as dg

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_POKE = signal.SIGUSR1
_POKE_INTERVAL_S = 0.2


class StopRequested(BaseException):
    """``scout run`` was asked to stop. A ``BaseException``, so no ``except Exception`` swallows it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        """128 + the signal number, the exit status shells and orchestrators expect."""
        return 128 + self.signum


class StopSignals:
    """SIGINT/SIGTERM handling for a program that runs Dagster jobs in process, one after another."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._announced = False
        self._defer = 0
        self._run: tuple[dg.DagsterInstance, str] | None = None
        self._previous: dict[int, object] = {}
        self._previous_fd = -1
        self._sockets: tuple[socket.socket, socket.socket] | None = None
        self._watcher: threading.Thread | None = None
        self._orchestrator_sleep: object = None
        self._interrupted: type[BaseException] = KeyboardInterrupt

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def signal_name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name

    # ---- installation -------------------------------------------------------------------
    def install(self) -> None:
        """Take over SIGINT, SIGTERM and SIGUSR1 and start the watcher (main thread only)."""
        from dagster._core.errors import DagsterExecutionInterruptedError
        from dagster._core.execution.plan.active import ActiveExecution

        # The orchestrator's sleep between steps; a poke raises only there (module docstring).
        self._orchestrator_sleep = ActiveExecution.sleep_til_ready.__code__
        self._interrupted = DagsterExecutionInterruptedError
        reader, writer = socket.socketpair()
        reader.setblocking(True)
        writer.setblocking(False)
        self._sockets = (reader, writer)
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_stop)
        self._previous[_POKE] = signal.signal(_POKE, self._on_poke)
        self._previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        self._watcher = threading.Thread(target=self._watch, name="scout-stop-watcher", daemon=True)
        self._watcher.start()

    def uninstall(self) -> None:
        """Give the signals back; the watcher is gone first, so no late poke meets SIGUSR1's default."""
        self._run = None
        signal.set_wakeup_fd(self._previous_fd)
        if self._sockets is not None:
            self._sockets[1].close()  # the watcher reads end-of-file and returns
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        if self._sockets is not None:
            self._sockets[0].close()
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def __enter__(self) -> StopSignals:
        self.install()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.uninstall()

    # ---- between jobs -------------------------------------------------------------------
    def raise_if_requested(self) -> None:
        if self.signum is not None:
            raise StopRequested(self.signum)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """A section a stop must not cut (recording a failure): the stop is raised at its end."""
        self._defer += 1
        try:
            yield
        finally:
            self._defer -= 1
        if self._defer == 0:
            self.raise_if_requested()

    @contextlib.contextmanager
    def watching(self, instance: dg.DagsterInstance, run_id: str) -> Iterator[None]:
        """Around one ``execute_in_process(run_id=run_id)``: a stop ends that run within seconds.

        A stop already requested raises before the run starts. After the run, a run left
        CANCELING is marked CANCELED.
        """
        self.raise_if_requested()
        self._run = (instance, run_id)
        try:
            yield
        finally:
            self._run = None
            if self.requested:
                _finish_canceling(instance, run_id)

    # ---- signal handlers (main thread) ------------------------------------------------------
    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self._note(signum)
        if self._defer == 0:
            raise StopRequested(signum)

    def _on_poke(self, signum: int, frame: FrameType | None) -> None:
        if self.requested and frame is not None and frame.f_code is self._orchestrator_sleep:
            raise self._interrupted()

    def _note(self, signum: int) -> None:
        # No print here: a handler that prints while the main thread prints fails (reentrant write).
        if self.signum is None:
            self.signum = signum

    # ---- the watcher (its own thread) -------------------------------------------------------
    def _watch(self) -> None:
        assert self._sockets is not None
        reader = self._sockets[0]
        while True:
            try:
                data = reader.recv(64)
            except OSError:
                return
            if not data:
                return
            stops = [signum for signum in data if signum in STOP_SIGNALS]
            if stops and not self._announced:
                self._note(stops[0])
                self._announced = True
                print(f"{self.signal_name} received: stopping", flush=True)
            current = self._run  # read once: the main thread clears it when the job returns
            if self.requested and current is not None:
                self._stop_run(*current)

    def _stop_run(self, instance: dg.DagsterInstance, run_id: str) -> None:
        _mark_canceling(instance, run_id, f"scout run received {self.signal_name}")
        main = threading.main_thread().ident
        while self._run is not None and self._run[1] == run_id and main is not None:
            signal.pthread_kill(main, _POKE)
            time.sleep(_POKE_INTERVAL_S)


def _mark_canceling(instance: dg.DagsterInstance, run_id: str, why: str) -> None:
    """Mark a running run CANCELING, so Dagster ends it CANCELED (not a failure to retry).

    The watcher races the main thread here: a signal that lands inside a step's code ends the
    run at once, sometimes before this is written; that run then ends FAILURE (interrupted).
    """
    from dagster import DagsterRunStatus

    with contextlib.suppress(Exception):  # the run may just have ended; the watcher must not die
        run = instance.get_run_by_id(run_id)
        if run is not None and run.status == DagsterRunStatus.STARTED:
            instance.report_run_canceling(run, message=f"{why}: stopping the run")


def _finish_canceling(instance: dg.DagsterInstance, run_id: str) -> None:
    from dagster import DagsterRunStatus

    run = instance.get_run_by_id(run_id)
    if run is not None and run.status == DagsterRunStatus.CANCELING:
        instance.report_run_canceled(run, message="the run ended after scout run was asked to stop")


def stoppable(handler: Callable[..., int]) -> Callable[..., int]:
    """Run ``handler`` with ``SIGNALS`` installed; a stop ends it with exit status 128 + signal."""

    def run(*args: object) -> int:
        if threading.current_thread() is not threading.main_thread():
            return handler(*args)  # signals can only be handled on the main thread
        with SIGNALS:
            try:
                return handler(*args)
            except StopRequested as stop:
                print(f"STOPPED: {stop}; stored data is intact, run `scout run` again to go on", flush=True)
                return stop.exit_code
            finally:
                SIGNALS.signum, SIGNALS._announced = None, False

    run.__doc__ = handler.__doc__
    return run


# One per process: signals are.
SIGNALS = StopSignals()
