"""Where a batch's recordings are worked on: in this process, a process pool, or a Dask cluster.

One small interface, :class:`Executor`: ``submit`` a job, take the next finished one
with ``next_done`` (in the order they finish), ``close``. ``batch`` keeps the only
loop over a batch and the only writer of the workspace; an executor runs the work
function somewhere and hands back what it returned, or the exception it raised.

The work is ``work(job)`` (or ``work(job, data)`` when the recording's bytes are
shipped), run after ``initializer(*initargs)`` has set up the process it runs in:
once per worker process of a pool, and once per process per batch on a cluster
(:func:`run_task` remembers which batch its process was set up for, so a model is
loaded once per worker process, also on a worker that joins or is restarted
mid-batch). A job is anything with a ``recording`` path.

On a cluster, a task that raises is retried ``ClusterSpec.retries`` times (on any
worker) before its exception comes back; a task whose worker dies is rescheduled by
the scheduler. The client alone writes results, so nothing is written twice.

This module does not decide what is done: no transcription, no workspace.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pipeline.errors import DispatchError

__all__ = [
    "ClusterError",
    "ClusterSpec",
    "DaskExecutor",
    "Executor",
    "InProcessExecutor",
    "PoolExecutor",
    "TaskTiming",
    "decode_shipped",
    "run_task",
]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
"""How long to try reaching a scheduler before giving up with a :class:`ClusterError`."""

Outcome = Any
"""What the work function returned, or the ``Exception`` it raised (after the retries)."""


class ClusterError(DispatchError):
    """The Dask scheduler cannot be reached, or was lost mid-batch."""


@dataclass(frozen=True)
class ClusterSpec:
    """Where and how to run a batch on Dask."""

    address: str
    """A scheduler address (``tcp://host:8786``), or ``local`` / ``local:N`` to start a
    ``LocalCluster`` of N single-threaded worker processes on this machine (N: the CPU count)."""
    ship_audio: bool = False
    """Send each recording's bytes with its task, for workers that cannot see the client's
    paths (fine for small files; large ones are better read from shared storage)."""
    retries: int = 2
    """Times a task that raised is tried again before its file is recorded as failed."""
    connect_timeout: float = CONNECT_TIMEOUT_S
    """Seconds to try reaching the scheduler."""

    @property
    def local_workers(self) -> int | None:
        """Workers of the ``LocalCluster`` to start, or None for a remote scheduler.

        Raises:
            ClusterError: ``local:`` followed by something other than a positive number.
        """
        name, _, count = self.address.partition(":")
        if name != "local":
            return None
        if not count:
            return os.cpu_count() or 1
        if not count.isdigit() or int(count) < 1:
            raise ClusterError(f"--cluster {self.address}: give local or local:N with N >= 1")
        return int(count)


class Executor(Protocol):
    """Runs jobs somewhere and hands back each one's outcome as it finishes."""

    slots: int
    """Jobs worth keeping submitted at once (the rest wait on the client)."""
    dashboard: str | None
    """A link to watch the work (the Dask dashboard), when there is one."""

    def submit(self, job) -> None:
        """Start work on one job."""

    def next_done(self) -> tuple[Any, Outcome]:
        """Wait for a submitted job to finish; return it with its outcome."""

    def close(self) -> None:
        """Stop the work still running and release the workers."""


class InProcessExecutor:
    """Runs each job in this process, one at a time, when it is asked for the next result."""

    dashboard = None

    def __init__(self, work: Callable, initializer: Callable, initargs: tuple = ()):
        initializer(*initargs)
        self.work = work
        self.slots = 1
        self._queue: deque = deque()

    def submit(self, job) -> None:
        self._queue.append(job)

    def next_done(self) -> tuple[Any, Outcome]:
        job = self._queue.popleft()
        try:
            return job, self.work(job)
        except Exception as e:  # handed back like a worker's, so one loop handles both
            return job, e

    def close(self) -> None:
        self._queue.clear()


class PoolExecutor:
    """Runs jobs on worker processes of this machine, each set up once by the initializer."""

    dashboard = None

    def __init__(self, work: Callable, initializer: Callable, initargs: tuple, workers: int):
        from concurrent.futures import ProcessPoolExecutor

        self.work = work
        self.slots = 2 * workers
        self._pool = ProcessPoolExecutor(workers, initializer=initializer, initargs=initargs)
        self._running: dict = {}

    def submit(self, job) -> None:
        self._running[self._pool.submit(self.work, job)] = job

    def next_done(self) -> tuple[Any, Outcome]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        done, _ = wait(self._running, return_when=FIRST_COMPLETED)
        future = next(iter(done))
        job = self._running.pop(future)
        error = future.exception()
        if isinstance(error, BrokenProcessPool):  # a worker died: the pool is gone, not one file
            raise error
        return job, error if error is not None else future.result()

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


@dataclass(frozen=True)
class TaskTiming:
    """How long one cluster task took, seen from the client and from the worker."""

    seconds: float
    """From submitting the task to holding its result on the client (waiting behind other
    tasks on a busy worker included)."""
    work_seconds: float
    """The work function's own time on the worker."""

    @property
    def overhead(self) -> float:
        """Seconds the cluster added: scheduling, sending the task, returning the result."""
        return self.seconds - self.work_seconds


class DaskExecutor:
    """Runs jobs on a Dask cluster (a scheduler's address, or a ``LocalCluster`` it starts).

    Each task carries the initializer and its arguments; :func:`run_task` runs the
    initializer once per worker process per batch, so models load once per process.
    When closed, logs (at INFO) what the cluster added to each task's time.
    """

    def __init__(self, work: Callable, initializer: Callable, initargs: tuple, spec: ClusterSpec,
                 local_threads: int = 1):
        """Connect to the scheduler (or start a local cluster).

        Args:
            work: The function run on each job.
            initializer: Sets a worker process up (loads the model).
            initargs: Its arguments; they must pickle.
            spec: Where the cluster is and how to use it.
            local_threads: Threads per worker of a local cluster.

        Raises:
            ClusterError: The scheduler cannot be reached within ``spec.connect_timeout``.
        """
        self.work, self.initializer, self.initargs, self.spec = work, initializer, initargs, spec
        self.batch = uuid.uuid4().hex
        """Names this batch's setup on the workers (and its tasks on the dashboard)."""
        self._cluster = None
        self.client = self._connect(local_threads)
        """The ``distributed.Client``."""
        self.timings: list[TaskTiming] = []
        """Per finished task, its time on the client and on the worker."""
        self._running: dict = {}
        self._done = None
        self._slots_at = (0.0, 2)

    def _connect(self, local_threads: int):
        from distributed import Client, LocalCluster

        if not log.isEnabledFor(logging.DEBUG):  # Dask's own progress chatter, unless debugging
            logging.getLogger("distributed").setLevel(logging.ERROR)
        workers = self.spec.local_workers
        if workers is not None:
            import dask

            # forked, as the process pool's workers are: they inherit the modules this
            # process has imported instead of importing them again (seconds per worker)
            with dask.config.set({"distributed.worker.multiprocessing-method": "fork"}):
                self._cluster = LocalCluster(n_workers=workers, threads_per_worker=local_threads,
                                             processes=True, silence_logs=logging.ERROR,
                                             dashboard_address=":0")
            return Client(self._cluster, set_as_default=False)
        try:
            return Client(self.spec.address, timeout=self.spec.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ClusterError(f"cannot reach the Dask scheduler at {self.spec.address} "
                               f"within {self.spec.connect_timeout:g} s ({reason}); is "
                               f"`dask scheduler` running there?") from e

    @property
    def dashboard(self) -> str | None:
        """The dashboard's link, when the scheduler serves one (it needs bokeh)."""
        services = self.client.scheduler_info().get("services", {})
        return self.client.dashboard_link if "dashboard" in services else None

    @property
    def slots(self) -> int:
        """Twice the cluster's worker threads (read again every few seconds, as workers come
        and go), so every worker has a task queued behind the one it runs."""
        at, slots = self._slots_at
        if time.monotonic() - at > 5:
            slots = max(2, 2 * sum(self.client.nthreads().values()))
            self._slots_at = (time.monotonic(), slots)
        return slots

    def submit(self, job) -> None:
        from distributed import as_completed

        data = (Path(job.recording).read_bytes(),) if self.spec.ship_audio else ()
        future = self.client.submit(run_task, self.batch, self.initializer, self.initargs, self.work,
                                    job, *data, key=f"{Path(job.recording).name}-{uuid.uuid4().hex}",
                                    retries=self.spec.retries, pure=False)
        self._running[future.key] = future, job, time.perf_counter()
        if self._done is None:
            self._done = as_completed([future], loop=self.client.loop)
        else:
            self._done.add(future)

    def next_done(self) -> tuple[Any, Outcome]:
        from concurrent.futures import CancelledError

        future = next(self._done)
        _, job, submitted = self._running.pop(future.key)
        try:
            error = future.exception()
        except CancelledError as e:
            raise ClusterError(f"lost the Dask scheduler at {self.spec.address} mid-batch; "
                               f"run again to resume") from e
        if error is not None:
            return job, error
        outcome, work_seconds = future.result()
        self.timings.append(TaskTiming(time.perf_counter() - submitted, work_seconds))
        future.release()
        return job, outcome

    def close(self) -> None:
        if self.timings:
            overhead = sorted(t.overhead for t in self.timings)[len(self.timings) // 2]
            share = sum(t.overhead for t in self.timings) / max(sum(t.work_seconds for t in self.timings),
                                                                1e-9)
            log.info("%d tasks on the cluster: %.1f ms of scheduling and transfer each (median), "
                     "%.2f %% of their work time", len(self.timings), overhead * 1000, share * 100)
        self.client.cancel([future for future, *_ in self._running.values()], force=True)
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


_READY: str | None = None
"""The batch this process was last set up for (by :func:`run_task`)."""


def run_task(batch: str, initializer: Callable, initargs: tuple, work: Callable, job, *data):
    """A cluster task: set this worker process up for ``batch`` if not yet, then work on ``job``.

    Args:
        batch: Names the batch; the initializer runs once per process per batch.
        initializer: Sets the process up (loads the model).
        initargs: Its arguments.
        work: The work function.
        job: Its job.
        *data: The recording's bytes, when they were shipped.

    Returns:
        What ``work`` returns, and the seconds it took.
    """
    global _READY
    if _READY != batch:
        initializer(*initargs)
        _READY = batch
    started = time.perf_counter()
    return work(job, *data), time.perf_counter() - started


def decode_shipped(recording: str, data: bytes):
    """Decode a recording from its shipped bytes, naming the recording (not a temporary file)
    in any ``AudioError``.

    Args:
        recording: The path as the client knows it (its extension hints the format).
        data: The file's bytes.

    Returns:
        The samples, as ``audio.load_audio`` returns them.

    Raises:
        pipeline.audio.AudioError: The bytes are not decodable audio.
    """
    from pipeline import audio

    with tempfile.TemporaryDirectory(prefix="dispatch-") as folder:
        path = Path(folder) / Path(recording).name
        path.write_bytes(data)
        try:
            return audio.load_audio(path)
        except audio.AudioError as e:
            raise audio.AudioError(recording, e.reason) from None
