"""Which queued job runs next: people in turn, trusted users and admins first.

Round robin over people, not jobs: the next job belongs to the waiting person served longest
ago (never served comes first, then by their first job's age), so one person's burst of five
interleaves with everyone else's single job instead of blocking it. Each person's own jobs
keep their order. Everything is in memory, rebuilt from the store at start.

With several models, a job waits for a worker that has its model, and switching models costs
a load: so a job of the model already loaded may go before the people ahead of it in line,
but each of them at most once: someone passed over goes next (unless they are passed over
for a job they could not run anyway). Nobody waits more than one extra job for it.

The order is never materialised. Person u's k-th waiting job (k from 0) runs in round k, in
which every person with more than k jobs gets one, in key order; so its place in line is
    (privileged jobs, for a plain user) + sum of |level l| for l < k + rank of u in level k + 1
where level l holds the people with more than l jobs, sorted by key. Levels are sorted lists:
add, pop, cancel and place in line cost O(jobs of that person x log people).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field

from sortedcontainers import SortedList

NEVER = -math.inf


@dataclass(frozen=True)
class Entry:
    """A queued job as the scheduler sees it."""

    job_id: str
    user_id: int
    created_at: float
    cost: int = 0
    batch_key: Hashable = None  # jobs with equal keys may share one GPU batch
    model: str = ""  # the video model it needs


Runnable = Callable[[str], bool]  # can a free worker run this model now?


@dataclass(eq=False)
class _Line:
    user_id: int
    privileged: bool
    served: float
    jobs: deque[Entry] = field(default_factory=deque)
    passed_over: bool = False  # a later job went first to spare a model switch

    def key(self) -> tuple[float, float, int]:
        return (self.served, self.jobs[0].created_at, self.user_id)


class FairQueue:
    def __init__(self) -> None:
        self._lines: dict[int, _Line] = {}
        self._owner: dict[str, int] = {}  # job id -> user id
        # levels[privileged][l]: keys of the people with more than l jobs waiting.
        self._levels: dict[bool, list[SortedList]] = {True: [], False: []}
        self._jobs_in: dict[bool, int] = {True: 0, False: 0}
        self._cost = 0

    # Size

    def __len__(self) -> int:
        return len(self._owner)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._owner

    def waiting(self, user_id: int) -> int:
        line = self._lines.get(user_id)
        return len(line.jobs) if line else 0

    def jobs_of(self, user_id: int) -> list[str]:
        """A person's waiting jobs, in their order."""
        line = self._lines.get(user_id)
        return [entry.job_id for entry in line.jobs] if line else []

    @property
    def mean_cost(self) -> float:
        return self._cost / len(self) if self._owner else 0.0

    # Changes

    def add(self, entry: Entry, *, privileged: bool, served: float | None) -> None:
        """Queue a job at the end of its owner's line; `served` is when a job of theirs
        last started (None: never)."""
        if entry.job_id in self._owner:
            raise ValueError(f"job {entry.job_id} is queued already")
        line = self._lines.get(entry.user_id)
        if line is None:
            line = self._lines[entry.user_id] = _Line(
                entry.user_id, privileged, NEVER if served is None else served)
        if line.jobs:  # the head, hence the key, stays: only one more level holds them
            line.jobs.append(entry)
            self._level(line.privileged, len(line.jobs) - 1).add(line.key())
        else:
            line.jobs.append(entry)
            self._link(line)
        self._owner[entry.job_id] = entry.user_id
        self._jobs_in[line.privileged] += 1
        self._cost += entry.cost

    def pop(self, served: float, runnable: Runnable | None = None, prefer: str | None = None,
            scan: int = 64) -> Entry | None:
        """The next job in fair order that `runnable` accepts (None: any), its owner marked
        as served at `served`. A job of model `prefer` (the one loaded) goes first when its
        owner's turn is in the current round, looked for among the next `scan` people."""
        if prefer is not None:
            ahead: list[_Line] = []
            for entry in self._next_people(scan):
                line = self._lines[entry.user_id]
                if entry.model == prefer and (runnable is None or runnable(entry.model)):
                    for passed in ahead:
                        passed.passed_over = True
                    return self._take(line, 0, served)
                if line.passed_over and (runnable is None or runnable(entry.model)):
                    break  # they were passed over once: their turn now
                ahead.append(line)
        for entry in self:
            if runnable is None or runnable(entry.model):
                return self._take(self._lines[entry.user_id], 0, served)
        return None

    def pop_batch(self, limit: Callable[[Entry], int], served: float,
                  runnable: Runnable | None = None, prefer: str | None = None,
                  scan: int = 64) -> list[Entry]:
        """The next job, plus up to `limit(job) - 1` later ones that can share its batch,
        found among the next `scan` jobs in fair order (a bounded look, not the queue)."""
        first = self.pop(served, runnable, prefer, scan)
        if first is None:
            return []
        batch = [first]
        if limit(first) > 1:
            mates = [e for e, _ in zip(self, range(scan), strict=False)
                     if e.batch_key == first.batch_key][: limit(first) - 1]
            for mate in mates:
                self.remove(mate.job_id, served=served)
            batch += mates
        return batch

    def remove(self, job_id: str, served: float | None = None) -> Entry | None:
        """Take a job out (cancelled, or started with a batch-mate); None if not queued."""
        user_id = self._owner.get(job_id)
        if user_id is None:
            return None
        line = self._lines[user_id]
        index = next(i for i, e in enumerate(line.jobs) if e.job_id == job_id)
        return self._take(line, index, served)

    def set_privileged(self, user_id: int, privileged: bool) -> None:
        line = self._lines.get(user_id)
        if line is None or line.privileged == privileged:
            return
        self._unlink(line)
        self._jobs_in[line.privileged] -= len(line.jobs)
        line.privileged = privileged
        self._jobs_in[privileged] += len(line.jobs)
        self._link(line)

    # Reading

    def position(self, job_id: str) -> int | None:
        """1-based place in line: 1 runs next."""
        user_id = self._owner.get(job_id)
        if user_id is None:
            return None
        line = self._lines[user_id]
        k = next(i for i, e in enumerate(line.jobs) if e.job_id == job_id)
        levels = self._levels[line.privileged]
        ahead = 0 if line.privileged else self._jobs_in[True]
        ahead += sum(len(levels[level]) for level in range(k))
        return ahead + levels[k].index(line.key()) + 1

    def __iter__(self) -> Iterator[Entry]:
        """The queued jobs in the order they will run (lazily: stop when you have enough)."""
        for privileged in (True, False):
            for round_, keys in enumerate(self._levels[privileged]):
                for key in keys:
                    yield self._lines[key[2]].jobs[round_]

    def _next_people(self, scan: int) -> Iterator[Entry]:
        """The next job of each of the next `scan` people in line, in the first tier that
        has any (privileged first)."""
        for privileged in (True, False):
            levels = self._levels[privileged]
            if levels and levels[0]:
                for key, _ in zip(levels[0], range(scan), strict=False):
                    yield self._lines[key[2]].jobs[0]
                return

    # Bookkeeping

    def _take(self, line: _Line, index: int, served: float | None) -> Entry:
        self._unlink(line)
        entry = line.jobs[index]
        del line.jobs[index]
        if served is not None:
            line.served = served
            line.passed_over = False
        del self._owner[entry.job_id]
        self._jobs_in[line.privileged] -= 1
        self._cost -= entry.cost
        if line.jobs:
            self._link(line)
        else:  # `served` lives on in the store; a new job brings it back
            del self._lines[line.user_id]
        return entry

    def _link(self, line: _Line) -> None:
        key = line.key()
        for level in range(len(line.jobs)):
            self._level(line.privileged, level).add(key)

    def _unlink(self, line: _Line) -> None:
        key = line.key()
        levels = self._levels[line.privileged]
        for level in range(len(line.jobs)):
            levels[level].remove(key)
        while levels and not levels[-1]:
            levels.pop()

    def _level(self, privileged: bool, level: int) -> SortedList:
        levels = self._levels[privileged]
        while len(levels) <= level:
            levels.append(SortedList())
        return levels[level]
