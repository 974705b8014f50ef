"""Signing a finished MP4 and reading it back: what the manifest says (and does not say),
an extension's parent, and what `verify` makes of a file changed after signing."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.models import ChatRef, Job, JobStatus
from bot.provenance.credentials import load_credentials
from bot.provenance.signing import ContentCredentials
from bot.provenance.verify import verify
from engine.spec.params import GenParams
from engine.video import encode_mp4
from tests.credentials import actions, active_manifest, flip_a_video_byte, made_by_ai
from tests.images import make_photo

PARAMS = GenParams(prompt="a cat turning its head slowly", frames=8, fps=8, steps=10,
                   seed=7, width=128, height=96)


@pytest.fixture
def signer(tmp_path) -> ContentCredentials:
    return ContentCredentials(load_credentials(None, None, tmp_path / "data"),
                              weights={"i2vgen-xl": "ali-vilab/i2vgen-xl"})


def a_job(tmp_path: Path, job_id: str = "abc123", **fields) -> Job:
    photo = tmp_path / f"{job_id}.img"
    photo.write_bytes(make_photo(160, 128))
    return Job(id=job_id, user_id=1, platform="cli", chat=ChatRef("cli", "me"),
               status=JobStatus.RUNNING, caption=PARAMS.prompt, params=PARAMS, cost=10,
               input_path=photo, attempts=1, created_at=time.time(), **fields)


def a_video(tmp_path: Path, name: str = "clip.mp4"):
    frames = np.full((8, 96, 128, 3), 90, np.uint8)
    frames[:, :, 64:] = 200
    return replace(encode_mp4(frames, 8, tmp_path / name), params=PARAMS)


def test_a_signed_video_says_a_model_made_it_and_nothing_of_the_person(tmp_path, signer):
    video = a_video(tmp_path)
    signed = signer.sign(video, a_job(tmp_path), None)
    assert signed.size_bytes == video.path.stat().st_size > video.size_bytes
    action = made_by_ai(video.path)
    assert action["action"] == "c2pa.created"
    assert "I2VGen-XL (i2vgen-xl)" in action["softwareAgent"]["name"]
    assert action["softwareAgent"]["version"] == signer.version
    assert action["parameters"]["weights"] == "ali-vilab/i2vgen-xl"
    assert action["parameters"]["seed"] == 7 and action["when"]
    manifest = active_manifest(video.path)
    assert manifest["claim_generator_info"][0]["name"] == "i2v-bot"
    assert "cat turning" not in str(manifest) and not manifest.get("ingredients")
    verdict = verify(video.path)
    assert verdict.valid and not verdict.changed and verdict.made_by_ai
    assert not verdict.trusted  # an operator-made chain, on no trust list
    assert verify(video.path, signer.credentials.anchor_pem).trusted  # ...but ours


def test_the_prompt_and_photo_are_in_it_only_when_the_operator_asks(tmp_path):
    signer = ContentCredentials(load_credentials(None, None, tmp_path / "data"),
                                weights={}, with_prompt=True)
    video = a_video(tmp_path)
    signer.sign(video, a_job(tmp_path), None)
    assert made_by_ai(video.path)["parameters"]["prompt"] == PARAMS.prompt
    ingredients = active_manifest(video.path)["ingredients"]
    assert [(i["title"], i["relationship"], i["format"]) for i in ingredients] == [
        ("photo", "inputTo", "image/jpeg")]
    assert "thumbnail" not in ingredients[0]  # its hash, not a copy of the picture
    assert verify(video.path).valid


def test_a_byte_changed_in_the_video_after_signing_fails_verification(tmp_path, signer):
    video = a_video(tmp_path)
    signer.sign(video, a_job(tmp_path), None)
    flip_a_video_byte(video.path)
    verdict = verify(video.path)
    assert verdict.found and not verdict.valid and verdict.changed
    assert any("mismatch" in problem for problem in verdict.problems)


def test_an_extension_names_the_video_it_continues_as_its_parent(tmp_path, signer):
    first = a_video(tmp_path, "first.mp4")
    signer.sign(first, a_job(tmp_path, "first1"), None)
    second = a_video(tmp_path, "second.mp4")
    signer.sign(second, a_job(tmp_path, "second", extends="first1", extension=1), first.path)
    manifest = active_manifest(second.path)
    parents = [i for i in manifest["ingredients"] if i["relationship"] == "parentOf"]
    assert [p["title"] for p in parents] == ["first.mp4"]
    assert parents[0]["active_manifest"]  # the parent's own credentials came along
    assert [a["action"] for a in actions(manifest)] == ["c2pa.opened", "c2pa.edited"]
    assert made_by_ai(second.path)["parameters"]["continues_job"] == "first1"
    verdict = verify(second.path)
    assert verdict.valid and verdict.parent == "first.mp4"


def test_a_file_without_credentials_is_told_apart(tmp_path):
    video = a_video(tmp_path)
    assert not verify(video.path).found
    with pytest.raises(OSError):
        verify(tmp_path / "missing.mp4")
