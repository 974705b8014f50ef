"""Which queued job runs next: users in turn, trusted users and admins first.

Round robin over people, not jobs: the next job belongs to the waiting user who was served
longest ago (never served comes first), so one person's burst of five interleaves with
everyone else's single job instead of blocking it. Each user's own jobs keep their order.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping

from bot.models import Job, Role

PRIORITY_ROLES = (Role.ADMIN, Role.TRUSTED)


def fair_order(queued: Iterable[Job], roles: Mapping[int, Role],
               last_served: Mapping[int, float]) -> list[Job]:
    """The queued jobs in the order they will run.

    `last_served` is when each user's latest job started; the order is simulated by
    serving the head of the longest-waiting user's line, again and again.
    """
    lines: dict[int, deque[Job]] = defaultdict(deque)
    for job in sorted(queued, key=lambda j: j.created_at):
        lines[job.user_id].append(job)
    served = {user: last_served.get(user, -math.inf) for user in lines}
    order: list[Job] = []
    turn = max([t for t in last_served.values()] + [0.0])
    while lines:
        user = min(lines, key=lambda u: (roles.get(u) not in PRIORITY_ROLES, served[u],
                                         lines[u][0].created_at))
        order.append(lines[user].popleft())
        if not lines[user]:
            del lines[user]
        turn += 1
        served[user] = turn
    return order
