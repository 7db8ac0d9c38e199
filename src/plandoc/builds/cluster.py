"""A build's map run on a Dask distributed cluster (`plandoc build --scheduler ADDRESS`).

Imported only when a scheduler is named: `dask.distributed` is an optional
extra (`pip install 'plandoc[cluster]'`). The parent connects to the
scheduler (giving up after CONNECT_SECONDS), refuses workers whose plandoc is
missing or another version, and then hands out the same chunks of plans the
local pool would: a task per chunk, never per plan, at most WINDOW chunks a
worker thread ahead of the results read. A task carries plan paths or URLs,
their hashes and the build options; it brings back each plan's few values
(`batch._Outcome`: id, version, manifest entry, problems without plan values).
Workers read the plans and write the documents themselves, straight to the
output folder or URL: every worker must reach both at the same names.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from plandoc import __version__
from plandoc.errors import UsageError

CONNECT_SECONDS = 10.0


def connect(address: str) -> Any:
    """A client of the scheduler at `address`, its workers checked; one line when not."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            "--scheduler needs Dask distributed on this machine and on every worker: "
            "pip install 'plandoc[cluster]'"
        ) from None
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(
            f"cannot reach the Dask scheduler at {address}: {reason}; start it, or check "
            "the address"
        ) from None
    try:
        refuse_other_versions(_worker_versions(client))
    except BaseException:
        client.close()
        raise
    return client


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


class DaskWorkers:
    """`batch._workers` on a cluster: `run(function, (number, arguments)...)`, results in
    the order given, chunks of plans as tasks."""

    def __init__(self, address: str, window: int) -> None:
        self.address, self.window = address, window
        self.client: Any = None
        self.slots = 1

    def __enter__(self) -> Callable[..., Iterator[Any]]:
        self.client = connect(self.address)
        threads = self.client.nthreads()
        self.slots = max(1, sum(threads.values()))
        return self.run

    def run(
        self, function: Callable[..., Any], jobs: Iterable[tuple[int, Any]], chunk: int
    ) -> Iterator[Any]:
        from plandoc.builds.batch import _call, _chunks

        waiting: deque[Any] = deque()
        for piece in _chunks(jobs, chunk):
            waiting.append(self.client.submit(_call, function, piece, pure=False))
            if len(waiting) >= self.slots * self.window:
                yield from waiting.popleft().result()
        while waiting:
            yield from waiting.popleft().result()

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:  # work not started is dropped; a chunk started finishes
            self.client.close()
