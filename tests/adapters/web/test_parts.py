"""The web page's parts without a server or a browser: who gets which live event, what a
page opened mid-job sees first, what a page that does not read loses; how the form's fields
become overrides; which cookies are believed."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.web import render
from adapters.web.access import Sessions, load_key
from adapters.web.form import overrides
from adapters.web.live import PAGE_BACKLOG, LiveEvents
from bot.errors import UserError
from bot.models import ChatRef, EventKind, Job, JobEvent, JobStatus
from engine.models.i2vgen_xl.card import CARD as I2VGEN_XL
from engine.spec.params import GenParams


def event(kind: EventKind, session: str = "ann", job_id: str = "job1", step: int = 0):
    job = Job(id=job_id, user_id=1, platform="web", chat=ChatRef("web", session),
              status=JobStatus.RUNNING, caption="waves", params=GenParams("waves", seed=1),
              cost=100, input_path=Path("x"), attempts=1, created_at=0.0)
    return JobEvent(kind, job, step=step, total_steps=50)


def drain(queue) -> list:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def test_each_session_gets_its_own_jobs_and_a_new_page_the_state_of_unfinished_ones():
    live = LiveEvents()
    live.publish(event(EventKind.PROGRESS, step=3))
    live.publish(event(EventKind.QUEUED, session="bob", job_id="job2"))
    live.publish(event(EventKind.DONE, job_id="job3"))  # finished: history shows it
    with live.subscribe("ann") as ann, live.subscribe("ann") as ann_tab:
        assert [(e.job.id, e.step) for e in drain(ann)] == [("job1", 3)]
        live.publish(event(EventKind.PROGRESS, step=4))
        live.publish(event(EventKind.PROGRESS, session="bob", job_id="job2", step=1))
        assert [e.step for e in drain(ann)] == [4]
        assert [e.step for e in drain(ann_tab)] == [3, 4]  # every open tab
        live.close()
        assert drain(ann) == [None]  # the stream ends


def test_a_page_that_does_not_read_loses_progress_never_the_result():
    live = LiveEvents()
    with live.subscribe("ann") as page:
        for step in range(1, PAGE_BACKLOG + 10):
            live.publish(event(EventKind.PROGRESS, step=step))
        live.publish(event(EventKind.DONE))
        received = drain(page)
    assert received[-1].kind is EventKind.DONE and len(received) == PAGE_BACKLOG


def test_advanced_fields_equal_to_the_preset_leave_the_caption_flags_alone():
    preview = I2VGEN_XL.presets["preview"]
    same = {"resolution": "512p", "frames": "8", "fps": "8", "steps": "30", "guidance": "9"}
    assert overrides(same, preview, I2VGEN_XL) == {}
    changed = {**same, "frames": "16", "guidance": "11.5", "negative": "blurry"}
    assert overrides(changed, preview, I2VGEN_XL) == {"frames": 16, "guidance": 11.5,
                                           "negative_prompt": "blurry"}
    with pytest.raises(UserError) as refused:
        overrides({**same, "steps": "many"}, preview, I2VGEN_XL)
    assert str(refused.value) == "steps needs 10-100 (got many)."


def test_a_cookie_is_believed_only_with_its_own_signature(tmp_path):
    sessions = Sessions(load_key(tmp_path, None))
    session, cookie = sessions.new()
    assert sessions.verify(cookie) == session
    assert load_key(tmp_path, None) == sessions.key  # the same key after a restart
    assert Sessions(load_key(tmp_path, "a password")).verify(cookie) is None
    for bad in (None, "", session, f"{session}.", f"{session}.{'0' * 32}", "é.ü"):
        assert sessions.verify(bad) is None


def test_the_model_choice_shows_only_when_several_are_offered():
    one = render.page("en", "s1", False, "standard", "", "20")
    assert 'id="model"' not in one and '"standard": {"resolution": "512p"' in one
    both = render.page("en", "s1", False, "standard", "", "20", "wan", ("i2vgen-xl", "wan"))
    assert '<option value="wan" selected>Wan 2.2 TI2V-5B</option>' in both
    assert '"standard": {"resolution": "480p", "frames": 81' in both
    assert 'name="frames" type="number" min="17" max="121"' in both


def test_the_page_offers_fastwan_with_its_fixed_steps_and_no_guidance():
    page = render.page("en", "s1", False, "standard", "", "20", "turbo", ("wan", "turbo"))
    assert '<option value="turbo" selected>FastWan 2.2 TI2V-5B (3 steps)</option>' in page
    assert '"max": {"resolution": "720p", "frames": 121, "fps": 24, "steps": 3, ' \
           '"guidance": 1.0}' in page
    assert 'name="steps" type="number" min="3" max="3"' in page
    assert 'name="guidance" type="number" min="1" max="1"' in page
