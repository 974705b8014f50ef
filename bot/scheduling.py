"""Which queued job runs next: users in turn, trusted users and admins first.

Each queued job is ranked within its owner's jobs (a job already running counts as the
owner's first), so one person's burst of five interleaves with everyone else's single job
instead of blocking it. Ties go to the earlier submission.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from bot.models import Job, Role

PRIORITY_ROLES = (Role.ADMIN, Role.TRUSTED)


def fair_order(queued: Iterable[Job], running: Iterable[Job],
               roles: Mapping[int, Role]) -> list[Job]:
    taken = Counter(job.user_id for job in running)
    ranked = []
    for job in sorted(queued, key=lambda j: j.created_at):
        taken[job.user_id] += 1
        tier = 0 if roles.get(job.user_id) in PRIORITY_ROLES else 1
        ranked.append(((tier, taken[job.user_id], job.created_at), job))
    ranked.sort(key=lambda pair: pair[0])
    return [job for _, job in ranked]
