"""The moderation classifier through transformers' image-classification pipeline, on the tiny
stand-in saved like a Hub model (its fixed head refuses mostly red pictures), and the
worker's check of a finished clip before it becomes an MP4."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.config import EngineConfig
from engine.moderation.classifier import ClassifierConfig, PictureClassifier
from engine.spec.errors import InternalError, Rejected
from engine.spec.moderation import REFUSED_VIDEO, UNAVAILABLE_VIDEO, Thresholds, Verdict
from engine.spec.params import GenParams
from engine.spec.work import RenderSpec, WorkEvent, WorkKind
from engine.worker import BatchRenderer
from tests.images import make_photo, red_left
from tests.models.pan.engine import PanEngine


def test_the_classifier_scores_each_label_and_refuses_past_a_threshold(tiny_classifier):
    red = tiny_classifier.check_photo(red_left(320, 192, 1.0), Thresholds())
    assert red.refused and red.refused_by == "nsfw" and red.check == "photo"
    assert dict(red.scores)["nsfw"] > 0.99 and set(dict(red.scores)) == {"normal", "nsfw"}
    for fine in (make_photo(160, 128), red_left(320, 192, 0.7), make_photo(1600, 1200, "PNG")):
        verdict = tiny_classifier.check_photo(fine, Thresholds())
        assert not verdict.refused and dict(verdict.scores)["nsfw"] < 0.05
    # The threshold is the operator's: 70% red passes at 0.5 and is refused at 0.0001.
    strict = Thresholds.parse("nsfw:0.0001")
    assert tiny_classifier.check_photo(red_left(320, 192, 0.7), strict).refused


def test_a_photo_that_cannot_be_decoded_is_refused_with_its_own_words(tiny_classifier):
    with pytest.raises(Rejected) as refused:
        tiny_classifier.check_photo(make_photo(640, 480)[:3000], Thresholds())
    assert refused.value.code == "image_damaged"


def test_a_video_is_judged_on_frames_from_its_first_to_its_last(tiny_classifier):
    green = np.zeros((16, 64, 64, 3), np.uint8)
    green[..., 1] = 200
    assert not tiny_classifier.check_frames(green, Thresholds()).refused
    ends_red = green.copy()
    ends_red[-1] = (220, 0, 0)  # only the very last frame
    verdict = tiny_classifier.check_frames(ends_red, Thresholds())
    assert verdict.refused and verdict.check == "video"


def test_thresholds_on_labels_the_model_lacks_are_refused_at_load(tiny_classifier_dir):
    classifier = PictureClassifier(ClassifierConfig(
        model=str(tiny_classifier_dir), thresholds=Thresholds.parse("porn:0.5,nsfw:0.5")))
    with pytest.raises(InternalError, match="names porn.*labels are normal, nsfw"):
        classifier.load()


def test_a_folder_that_is_not_a_classifier_says_which_setting_to_fix(tmp_path):
    for folder, words in ((tmp_path / "missing", "does not exist"),
                          (tmp_path, "has no config.json")):
        with pytest.raises(InternalError, match=f"{words}.*I2V_MODERATION_MODEL"):
            PictureClassifier(ClassifierConfig(model=str(folder))).load()


def test_thresholds_parse_judge_and_travel_as_text():
    limits = Thresholds.parse(" nsfw:0.7 , gore:0.9 ")
    assert limits.labels == ("nsfw", "gore") and Thresholds.parse(limits.to_text()) == limits
    verdict = limits.judge("photo", {"nsfw": 0.75, "gore": 0.99, "normal": 0.1})
    assert verdict.refused_by == "gore"  # past its threshold by the most
    assert Verdict.from_dict(verdict.to_dict()) == verdict
    assert not limits.judge("photo", {"nsfw": 0.69, "normal": 0.31}).refused
    for bad in ("nsfw", "nsfw:1.5", ":0.5", "nsfw:x", ""):
        with pytest.raises(ValueError):
            Thresholds.parse(bad)


def _spec(tmp_path: Path, photo: bytes, moderation: Thresholds | None) -> RenderSpec:
    path = tmp_path / "in.img"
    path.write_bytes(photo)
    params = GenParams.from_preset("standard", "a boat drifting", model="pan",
                                   seed=3).sized_for(320, 192)
    return RenderSpec(job_id="abc234", params=params, photo=path, output=tmp_path / "v.mp4",
                      moderation=moderation)


def _run(renderer: BatchRenderer, spec: RenderSpec) -> WorkEvent:
    events: list[WorkEvent] = []
    renderer.run([spec], events.append, lambda: False)
    return events[-1]


def test_the_worker_refuses_a_clip_the_camera_pans_onto_before_encoding_it(
        pan, tmp_path, tiny_classifier):
    """70% red passes as a photo; the pan's first frames are mostly red: not sent."""
    renderer = BatchRenderer(PanEngine(EngineConfig(model="tiny", family="pan", device="cpu")),
                             classifier=tiny_classifier)
    photo = red_left(320, 192, 0.7)
    assert not tiny_classifier.check_photo(photo, Thresholds()).refused
    refused = _run(renderer, _spec(tmp_path, photo, Thresholds()))
    assert refused.kind is WorkKind.FAILED and refused.reason == REFUSED_VIDEO
    assert refused.verdict is not None and refused.verdict.refused_by == "nsfw"
    assert not (tmp_path / "v.mp4").exists()  # never encoded: nothing to send or clean up
    # Not asked to check (moderation off, or an exempt admin): the same clip is made.
    made = _run(renderer, _spec(tmp_path, photo, None))
    assert made.kind is WorkKind.DONE and made.video is not None and made.video.path.exists()


def test_a_worker_that_cannot_check_fails_the_video_rather_than_send_it(pan, tmp_path):
    engine = PanEngine(EngineConfig(model="tiny", family="pan", device="cpu"))
    green = red_left(320, 192, 0.0)
    for renderer in (BatchRenderer(engine),
                     BatchRenderer(engine, classifier=PictureClassifier(
                         ClassifierConfig(model=str(tmp_path / "gone"))))):
        failed = _run(renderer, _spec(tmp_path, green, Thresholds()))
        assert failed.kind is WorkKind.FAILED and failed.reason == UNAVAILABLE_VIDEO
        assert not (tmp_path / "v.mp4").exists()


def test_synthetic_has_the_default_size_and_never_refuses():
    classifier = PictureClassifier(ClassifierConfig(model="synthetic"))
    red = np.zeros((4, 64, 64, 3), np.uint8)
    red[..., 0] = 220
    verdict = classifier.check_frames(red, Thresholds())
    assert not verdict.refused and dict(verdict.scores)["nsfw"] < 1e-6
    assert 85e6 < classifier.parameters < 87e6  # ViT-B/16, as Falconsai/nsfw_image_detection
