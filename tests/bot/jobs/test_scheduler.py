"""The fair order, checked against a plain simulation of round robin for any mix of jobs."""

from __future__ import annotations

import math
from collections import defaultdict, deque

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.jobs.scheduler import Entry, FairQueue


def simulated_order(entries: list[Entry], privileged: set[int],
                    served: dict[int, float]) -> list[str]:
    """The definition: again and again, serve the head of the line of the person served
    longest ago (privileged people first, then never-served, then the oldest first job)."""
    lines: dict[int, deque[Entry]] = defaultdict(deque)
    for entry in sorted(entries, key=lambda e: e.created_at):
        lines[entry.user_id].append(entry)
    last = {user: served.get(user, -math.inf) for user in lines}
    clock = max([0.0, *served.values()])
    order = []
    while lines:
        user = min(lines, key=lambda u: (u not in privileged, last[u], lines[u][0].created_at, u))
        order.append(lines[user].popleft().job_id)
        if not lines[user]:
            del lines[user]
        clock += 1
        last[user] = clock
    return order


jobs = st.lists(st.tuples(st.integers(0, 7), st.booleans()), min_size=0, max_size=40)


def build(spec: list[tuple[int, bool]], served_users: set[int]):
    queue, entries, privileged = FairQueue(), [], set()
    served = {u: float(u) for u in served_users}
    for i, (user, vip) in enumerate(spec):
        if vip and not any(e.user_id == user for e in entries):
            privileged.add(user)
        entry = Entry(f"j{i}", user, created_at=100.0 + i, cost=i)
        entries.append(entry)
        queue.add(entry, privileged=user in privileged, served=served.get(user))
    return queue, entries, privileged, served


@settings(max_examples=300, deadline=None)
@given(jobs, st.sets(st.integers(0, 7)))
def test_iteration_positions_and_pops_follow_round_robin(spec, served_users):
    queue, entries, privileged, served = build(spec, served_users)
    expected = simulated_order(entries, privileged, served)
    assert [e.job_id for e in queue] == expected
    assert [queue.position(job_id) for job_id in expected] == list(range(1, len(expected) + 1))
    popped, clock = [], 1000.0
    while (entry := queue.pop(served=clock)) is not None:
        popped.append(entry.job_id)
        clock += 1
    assert popped == expected and len(queue) == 0


@settings(max_examples=200, deadline=None)
@given(jobs, st.data())
def test_cancelling_any_job_keeps_everyone_elses_order(spec, data):
    queue, entries, privileged, served = build(spec, set())
    if not entries:
        return
    gone = data.draw(st.sampled_from(entries))
    assert queue.remove(gone.job_id).job_id == gone.job_id
    assert queue.remove(gone.job_id) is None
    rest = [e for e in entries if e.job_id != gone.job_id]
    expected = simulated_order(rest, privileged, served)
    assert [e.job_id for e in queue] == expected
    assert [queue.position(j) for j in expected] == list(range(1, len(expected) + 1))


def test_a_burst_interleaves_with_everyone_elses_single_job():
    queue = FairQueue()
    for i in range(5):
        queue.add(Entry(f"ann{i}", 1, created_at=i), privileged=False, served=None)
    queue.add(Entry("bob", 2, created_at=10), privileged=False, served=None)
    queue.add(Entry("cid", 3, created_at=11), privileged=False, served=None)
    assert [e.job_id for e in queue][:4] == ["ann0", "bob", "cid", "ann1"]
    assert queue.position("cid") == 3 and queue.waiting(1) == 5


def test_a_user_made_trusted_moves_ahead_with_all_their_jobs():
    queue = FairQueue()
    queue.add(Entry("a", 1, created_at=0), privileged=False, served=None)
    queue.add(Entry("b1", 2, created_at=1), privileged=False, served=None)
    queue.add(Entry("b2", 2, created_at=2), privileged=False, served=None)
    queue.set_privileged(2, True)
    assert [e.job_id for e in queue] == ["b1", "b2", "a"]
    assert queue.position("a") == 3


def test_a_batch_takes_compatible_jobs_in_fair_order_only():
    queue = FairQueue()
    for i, (user, key) in enumerate([(1, "A"), (1, "A"), (2, "B"), (3, "A"), (4, "A")]):
        queue.add(Entry(f"j{i}", user, created_at=i, batch_key=key), privileged=False,
                  served=None)
    batch = queue.pop_batch(lambda entry: 3, served=99.0)
    assert [e.job_id for e in batch] == ["j0", "j3", "j4"]  # j1 waits for ann's next turn
    assert [e.job_id for e in queue] == ["j2", "j1"]  # bob was not served: he goes first


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.sampled_from("ab")), max_size=40),
       st.lists(st.sampled_from(["a", "b", None]), min_size=40, max_size=40))
def test_preferring_the_loaded_model_passes_nobody_over_twice(spec, warm):
    """Whatever the models and whichever is loaded, a job of the loaded model that goes
    before the fair head makes that head's owner next; every job still runs once."""
    queue = FairQueue()
    for i, (user, model) in enumerate(spec):
        queue.add(Entry(f"j{i}", user, created_at=100.0 + i, model=model), privileged=False,
                  served=None)
    owed: int | None = None  # a person passed over at the last pop
    ran = []
    for step, prefer in enumerate(warm):
        head = next(iter(queue), None)
        entry = queue.pop(served=1000.0 + step, prefer=prefer)
        if entry is None:
            break
        ran.append(entry.job_id)
        if owed is not None:
            assert entry.user_id == owed
        assert head is not None
        owed = head.user_id if entry.user_id != head.user_id else None
        if owed is not None:
            assert entry.model == prefer  # only the loaded model may go first
    ran += [e.job_id for e in iter(lambda: queue.pop(served=5000.0), None)]
    assert sorted(ran) == sorted(f"j{i}" for i in range(len(spec)))
