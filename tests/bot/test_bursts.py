"""Many submissions at once from one person: the per-person cap holds exactly, whatever the
GPU is doing meanwhile (a job being claimed for the GPU still counts)."""

from __future__ import annotations

import asyncio

from adapters.app import App
from bot.errors import UserError
from tests.bot.conftest import FAST, make_settings, request
from tests.fake_executor import FakeExecutor


async def test_a_burst_of_30_submits_gets_exactly_the_cap(tmp_path):
    for trial in range(8):  # the race was lost in 7 of 8 trials before
        gpu = FakeExecutor(slots=3)
        gpu.script("hold", hold_at=1)  # what starts stays running: the cap stays full
        settings = make_settings(tmp_path / f"data{trial}", I2V_MAX_JOBS_PER_USER=3,
                                 I2V_SUBMITS_PER_MINUTE=1000)
        app = await App.build(settings, executor=gpu)
        await app.start()
        try:
            results = await asyncio.gather(
                *(app.core.submit(request("ann", f"hold on {FAST}")) for _ in range(30)),
                return_exceptions=True)
            accepted = [r for r in results if not isinstance(r, BaseException)]
            refused = [r for r in results if isinstance(r, UserError)]
            assert len(accepted) == 3, (trial, len(accepted))
            assert len(refused) == 27 and {r.key for r in refused} == {"too_many_jobs"}
            assert app.lifecycle.active(accepted[0].user_id) == 3
        finally:
            for job in accepted:
                gpu.release(job.id)
            await app.close()
