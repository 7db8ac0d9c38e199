"""A build's map run on a Dask distributed cluster (`plandoc build --scheduler ADDRESS`).

Imported only when a scheduler is named: `dask.distributed` is an optional
extra (`pip install 'plandoc[cluster]'`). The parent checks the address's
shape (settings.scheduler_address), asks whatever listens there who it is,
giving up after CONNECT_SECONDS whatever the other side does (a web server,
a silent listener, a Dask worker), refuses workers whose plandoc is missing
or another version, and then hands out the same chunks of plans the local
pool would: a task per chunk, never per plan, at most WINDOW chunks a worker
thread ahead of the results read. A task carries plan paths (absolute: the
parent resolves them, batch.build) or URLs, their hashes, the build options
and the parent's plandoc version, which the worker checks again (a worker
may join after the build started); it brings back each plan's few values
(`batch._Outcome`: id, version, manifest entry, problems - whose messages may
quote plan values, as a local build's do). Workers read the plans and write
the documents themselves, straight to the output folder or URL: every
worker must reach both at the same names. A build that stops tells the tasks
not started to do nothing, and waits (STOP_SECONDS at most) for the chunks
started, as the local pool does, before the parent removes staged files and
releases the lock.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from plandoc import __version__
from plandoc.errors import PlandocError, UsageError

CONNECT_SECONDS = 10.0
STOP_SECONDS = 30.0  # how long a stopped build waits for the chunks its workers started


def checked_address(address: str) -> str:
    """The address in its one accepted shape, or a one-line UsageError (exit status 2)."""
    from plandoc.settings import scheduler_address

    try:
        return scheduler_address(address)
    except ValueError as why:
        raise UsageError(f"--scheduler: {why}") from None


def connect(address: str) -> Any:
    """A client of the scheduler at `address`, its workers checked; one line when not."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            "--scheduler needs Dask distributed on this machine and on every worker: "
            "pip install 'plandoc[cluster]'"
        ) from None
    address = checked_address(address)
    if not address.startswith("inproc://"):  # a scheduler of this process answers
        _must_be_a_scheduler(address)
    client = Client.__new__(Client)  # held, so that a failed start is closed here, silently
    try:
        client.__init__(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except Exception as error:
        with contextlib.suppress(Exception):
            client.close(timeout=1)
        raise _unreachable(address, error) from None
    try:
        refuse_other_versions(_worker_versions(client))
    except BaseException:
        client.close()
        raise
    return client


def _unreachable(address: str, error: BaseException) -> UsageError:
    return UsageError(
        f"cannot reach the Dask scheduler at {address}: {_first_line(error)}; start it, or "
        "check the address"
    )


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error).strip() else type(error).__name__


def _must_be_a_scheduler(address: str) -> None:
    """Ask the listener at `address` who it is, within CONNECT_SECONDS: Dask's own client
    would wait for ever on a listener that says nothing, and fail on one that speaks
    another protocol with an error of its own (a MemoryError for an SSH banner)."""
    import asyncio

    try:
        # (the connect gives up after CONNECT_SECONDS with its own reason; this, a second
        # later, if the other side accepted and then said nothing at all)
        identity = asyncio.run(asyncio.wait_for(_identity(address), CONNECT_SECONDS + 1))
    except TimeoutError:
        raise UsageError(
            f"cannot reach the Dask scheduler at {address}: no Dask answer within "
            f"{CONNECT_SECONDS:g} s; check the address (is it a Dask scheduler's?)"
        ) from None
    except Exception as error:
        if "Timed out trying to connect" in str(error) or isinstance(error, OSError):
            raise _unreachable(address, error) from None
        raise UsageError(
            f"cannot reach the Dask scheduler at {address}: it did not answer as one "
            f"({type(error).__name__}: {_first_line(error)}); check the address (and, for "
            "tls://, Dask's TLS settings)"
        ) from None
    kind = identity.get("type") if isinstance(identity, dict) else None
    if not isinstance(kind, str):
        raise UsageError(
            f"cannot reach the Dask scheduler at {address}: it did not answer as one; "
            "check the address"
        )
    if kind != "Scheduler":
        raise UsageError(
            f"{address} is a Dask {kind.lower()}, not the scheduler; give the scheduler's "
            "address (port 8786 unless it was started with another)"
        )


async def _identity(address: str) -> object:
    from distributed.comm import connect as open_comm
    from distributed.security import Security

    arguments = Security().get_connection_args("client")
    comm = await open_comm(address, timeout=CONNECT_SECONDS, **arguments)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def _worker_versions(client: Any) -> dict[str, object]:
    """Each worker's plandoc version, or the error importing it (a lambda: sent by value,
    since a worker without plandoc could not unpickle a function of plandoc's)."""
    return client.run(lambda: __import__("plandoc").__version__, on_error="return")


def refuse_other_versions(versions: dict[str, object]) -> None:
    """Every worker must run this plandoc: the same bytes, the same checks."""
    if not versions:
        raise UsageError("the Dask cluster has no workers; start some, then run the build again")
    wrong = []
    for address, version in sorted(versions.items()):
        if isinstance(version, BaseException):
            wrong.append(f"{address} has no plandoc installed")
        elif version != __version__:
            wrong.append(f"{address} runs plandoc {version}")
    if wrong:
        raise UsageError(
            f"Dask workers must run plandoc {__version__}, as this machine does: "
            f"{'; '.join(wrong)}; install plandoc=={__version__} on every worker"
        )


def _run_chunk(
    version: str, stop: str, function: Callable[..., Any], jobs: list[tuple[int, Any]]
) -> list[tuple[int, Any]]:
    """A chunk of plans on a worker: `batch._call`, unless this worker runs another plandoc
    (it joined after the build's check) or the build stopped before the chunk started."""
    from distributed import Event, get_worker

    from plandoc.builds.batch import _call

    if version != __version__:
        raise WrongWorker(
            f"the Dask worker {get_worker().address} runs plandoc {__version__}, not "
            f"{version} as the build's machine does; install plandoc=={version} on it"
        )
    if Event(stop).is_set():
        return []
    return _call(function, jobs)


class WrongWorker(UsageError):
    """A worker that joined the cluster with another plandoc: the build stops."""


class DaskWorkers:
    """`batch._workers` on a cluster: `run(function, (number, arguments)...)`, results in
    the order given, chunks of plans as tasks."""

    def __init__(self, address: str, window: int) -> None:
        self.address, self.window = address, window
        self.client: Any = None
        self.slots = 1
        self.stop = f"plandoc-stop-{secrets.token_hex(8)}"  # this build's, set when it stops
        self.sent: set[Any] = set()  # the chunks submitted whose results were not read

    def __enter__(self) -> Callable[..., Iterator[Any]]:
        self.client = connect(self.address)
        # Dask's client logs its own tracebacks when the scheduler goes away mid-build;
        # the build says it in one line (`_result`), so they are kept off the terminal.
        # (Set once distributed is imported: its import sets its loggers' levels.)
        self.client_log = logging.getLogger("distributed.client")
        self.client_level = self.client_log.level
        self.client_log.setLevel(logging.CRITICAL)
        threads = self.client.nthreads()
        self.slots = max(1, sum(threads.values()))
        return self.run

    def run(
        self, function: Callable[..., Any], jobs: Iterable[tuple[int, Any]], chunk: int
    ) -> Iterator[Any]:
        from plandoc.builds.batch import _chunks

        waiting: deque[Any] = deque()
        for piece in _chunks(jobs, chunk):
            task = self.client.submit(
                _run_chunk, __version__, self.stop, function, piece, pure=False
            )
            self.sent.add(task)
            waiting.append(task)
            if len(waiting) >= self.slots * self.window:
                yield from self._result(waiting.popleft())
        while waiting:
            yield from self._result(waiting.popleft())

    def _result(self, task: Any) -> list[tuple[int, Any]]:
        """A chunk's outcomes; a cluster that fails under the build (its scheduler gone, a
        chunk that killed every worker it ran on) stops it in one line, exit status 1."""
        try:
            result: list[tuple[int, Any]] = task.result()
        except PlandocError:
            raise
        except Exception as error:
            raise PlandocError(
                f"the Dask cluster at {self.address} failed during the build "
                f"({type(error).__name__}: {_first_line(error)}); the build stopped: finished "
                "documents are kept; run the build again once the cluster is up"
            ) from None
        self.sent.discard(task)
        return result

    def __exit__(self, kind: object, *exc: object) -> None:
        if self.client is None:
            return
        try:
            if kind is not None and self.sent:
                self._finish_started()
        finally:
            self.client.close()
            if kind is None:  # (after a failure Dask's client may log on at exit: muted)
                self.client_log.setLevel(self.client_level)

    def _finish_started(self) -> None:
        """The build stopped: the chunks not started do nothing, those started finish (as
        in the local pool) before staged files are removed and the lock released."""
        from distributed import Event

        with contextlib.suppress(Exception):
            Event(self.stop, client=self.client).set()
        print(
            "waiting for the Dask workers to finish the plans they started "
            f"(at most {STOP_SECONDS:g} s)",
            file=sys.stderr,
        )
        deadline = time.monotonic() + STOP_SECONDS
        for task in list(self.sent):  # (distributed.wait would need a default client)
            with contextlib.suppress(Exception):  # a chunk that failed is done too
                task.result(timeout=max(0.0, deadline - time.monotonic()))
