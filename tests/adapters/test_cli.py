"""`i2vbot` from the terminal, through the same core path as a chat message."""

from __future__ import annotations

import asyncio
import json
import logging

import numpy as np
import pytest

from adapters.cli import main
from bot.logs import RedactSecrets, setup_logging
from engine.video import encode_mp4, read_video
from tests.images import make_photo, red_left


@pytest.fixture
def env(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's folder
    monkeypatch.setenv("I2V_DATA_DIR", str(data))
    monkeypatch.setenv("I2V_MODEL", "tiny")
    for name in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return data


@pytest.mark.slow
def test_animate_writes_an_mp4_and_its_parameters_and_is_reproducible(env, tmp_path, capsys):
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(make_photo(192, 128))
    caption = "a cat is turning its head --frames 8 --seed 7 --steps 10 --res 256p"
    outs = []
    for name in ("one.mp4", "two.mp4"):
        out = tmp_path / name
        assert main(["animate", str(photo), caption, "-o", str(out)]) == 0
        printed = capsys.readouterr().out
        assert f"Video: {out}" in printed
        params_path = printed.split("Parameters: ")[1].strip()
        params = json.loads(open(params_path).read())
        assert params["seed"] == 7 and params["frames"] == 8 and params["preset"] == "standard"
        assert (params["width"], params["height"]) == (320, 192)  # 3:2 at 256p
        outs.append(out)
    frames, fps = read_video(outs[0])
    assert frames.shape == (8, 192, 320, 3) and fps == 8  # the standard preset's fps
    again, _ = read_video(outs[1])
    assert np.array_equal(frames, again)


def test_animate_with_wan_builds_the_tiny_wan_and_names_it(env, tmp_path, monkeypatch,
                                                          capsys):
    monkeypatch.setenv("I2V_MODELS", "i2vgen-xl,wan")
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(make_photo(192, 128))
    out = tmp_path / "wan.mp4"
    caption = "a cat is turning its head --model wan --frames 17 --steps 10 --size 192x128"
    assert main(["animate", str(photo), caption, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    params = json.loads(open(printed.split("Parameters: ")[1].strip()).read())
    assert params["model"] == "wan" and params["fps"] == 24
    frames, fps = read_video(out)
    assert frames.shape == (17, 128, 192, 3) and fps == 24
    assert (env / "models" / "tiny-wan" / "model_index.json").is_file()
    monkeypatch.setenv("I2V_MODELS", "i2vgen-xl")
    assert main(["animate", str(photo), caption]) == 2
    assert "not offered here" in capsys.readouterr().err


def test_animate_names_the_latest_live_preview_and_removes_it_at_the_end(env, tmp_path,
                                                                        monkeypatch, capsys):
    import adapters.cli as cli

    monkeypatch.setenv("I2V_PREVIEW_SECONDS", "0")  # every planned preview, however fast
    written = []
    write = cli.write_atomic

    def spy(path, data):
        written.append((path, data))
        write(path, data)

    monkeypatch.setattr(cli, "write_atomic", spy)
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(make_photo(192, 128))
    assert main(["animate", str(photo), "a cat is turning its head --frames 8 --steps 10 "
                 "--size 128x128"]) == 0
    err = capsys.readouterr().err
    assert len(written) == 3  # at steps 3, 6 and 9 of 10, all into one file
    (path,) = {path for path, _ in written}
    assert path.parent == env / "outputs" and path.name.startswith("preview_")
    assert all(data[:2] == b"\xff\xd8" for _, data in written)  # JPEGs
    assert f"preview {path}" in err
    assert not path.exists()  # the video has taken its place


def test_animate_with_turbo_and_with_wan_fast_names_what_made_each(env, tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.setenv("I2V_MODELS", "turbo,wan")
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(make_photo(192, 128))
    runs = {"turbo": "a cat is turning its head --frames 17 --size 192x128 --seed 3",
            "wan": "a cat is turning its head --model wan --fast --frames 17 --steps 10 "
                   "--size 192x128 --seed 3"}
    for model, caption in runs.items():
        out = tmp_path / f"{model}.mp4"
        assert main(["animate", str(photo), caption, "-o", str(out)]) == 0
        printed = capsys.readouterr().out
        params = json.loads(open(printed.split("Parameters: ")[1].strip()).read())
        frames, fps = read_video(out)
        assert frames.shape == (17, 128, 192, 3) and fps == 24
        if model == "turbo":  # the default model here, its own steps and no guidance
            assert (params["model"], params["steps"], params["guidance"], params["fast"]) == \
                ("turbo", 3, 1.0, False)
            assert (env / "models" / "tiny-turbo" / "model_index.json").is_file()
        else:
            assert (params["model"], params["fast"], params["steps"]) == ("wan", True, 10)
    assert main(["animate", str(photo), "waves --model turbo --steps 20"]) == 2
    assert "steps is always 3 for this model (got 20)" in capsys.readouterr().err


def test_animate_refuses_bad_input_with_a_clear_message(env, tmp_path, capsys):
    assert main(["animate", str(tmp_path / "missing.jpg"), "waves"]) == 2
    assert "Cannot read" in capsys.readouterr().err
    text = tmp_path / "notes.jpg"
    text.write_text("hello, not a photo")
    assert main(["animate", str(text), "waves"]) == 2
    assert "not" in capsys.readouterr().err.lower()


def test_presets_lists_every_preset_with_its_cost(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for line in ("preview: 512p, 8 frames @ 8 fps, 30 steps", "standard: 512p, 16 frames",
                 "high: 768p, 24 frames @ 12 fps, 80 steps", "max: 1024p, 32 frames"):
        assert line in out
    assert "· 1 credit ·" in out  # standard costs one credit
    assert "Wan 2.2 TI2V-5B (--model wan):" in out
    assert "standard: 480p, 81 frames @ 24 fps, 30 steps, guidance 5.0 · 3.43 credits" in out


def test_doctor_reports_without_revealing_tokens(env, monkeypatch, capsys):
    secret = "123456789:AAE-very-secret-token-value-0123456789"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", secret)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "TELEGRAM_BOT_TOKEN: set" in out and "DISCORD_BOT_TOKEN: not set" in out
    assert "ffmpeg:" in out and "database:" in out and "model i2vgen-xl:" in out
    assert secret not in out
    logs = list((env / "logs").glob("*.log"))
    assert logs and all(secret not in p.read_text() for p in logs)


def test_doctor_names_the_moderation_classifier_its_license_and_size(env, monkeypatch,
                                                                    capsys):
    monkeypatch.delenv("I2V_MODERATION_MODEL")  # the default, as an operator gets it
    monkeypatch.setenv("I2V_MODEL", "ali-vilab/i2vgen-xl")  # doctor downloads nothing
    assert main(["doctor"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("moderation"))
    assert line.startswith("moderation: photos+videos refusing at nsfw ≥ 0.5 on cpu; "
                           "classifier Falconsai/nsfw_image_detection")
    assert "Apache-2.0" in line and "343 MB download" in line
    monkeypatch.setenv("I2V_MODERATION", "off")
    assert main(["doctor"]) == 0
    assert "moderation: off (I2V_MODERATION)" in capsys.readouterr().out


def test_animate_refuses_a_photo_the_classifier_refuses_before_the_model_loads(
        env, tmp_path, capsys):
    photo = tmp_path / "red.jpg"
    photo.write_bytes(red_left(320, 192, 1.0))
    assert main(["animate", str(photo), "waves"]) == 2
    err = capsys.readouterr().err
    assert "This photo can't be used here." in err and "Loading the model" not in err


def test_a_classifier_that_cannot_load_is_one_line_naming_its_setting(env, tmp_path,
                                                                      monkeypatch, capsys):
    monkeypatch.setenv("I2V_MODERATION_MODEL", str(tmp_path / "no-classifier"))
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(make_photo(192, 128))
    assert main(["animate", str(photo), "waves"]) == 1
    err = capsys.readouterr().err.strip()
    assert "does not exist: check I2V_MODERATION_MODEL" in err and "\n" not in err


def test_serve_with_nothing_to_serve_says_which_variables_to_set(env, monkeypatch, capsys):
    monkeypatch.setenv("I2V_WEB", "off")  # without a token the web page runs otherwise
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN" in err and "DISCORD_BOT_TOKEN" in err and "I2V_WEB=auto" in err


def test_bad_settings_are_reported_by_name(env, monkeypatch, capsys):
    monkeypatch.setenv("I2V_ADMINS", "nonsense")
    assert main(["doctor"]) == 2
    assert "I2V_ADMINS" in capsys.readouterr().err


def test_tokens_never_reach_the_log_file(tmp_path):
    token = "987654321:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789"
    path = setup_logging(tmp_path, "INFO", [token, "discord-secret"], console=False)
    log = logging.getLogger("httpcore.test")
    log.warning("POST https://example.invalid/bot%s/getUpdates", token)
    log.warning("login with discord-secret failed")
    log.warning("another token 111111:%s", "x" * 35)
    try:
        raise RuntimeError(f"The token `{token}` was rejected by the server.")
    except RuntimeError:
        log.exception("startup failed")  # the traceback repeats the token
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert token not in text and "discord-secret" not in text and "x" * 35 not in text
    for line in ("/bot[redacted]/getUpdates", "login with [redacted] failed",
                 "another token [redacted]", "RuntimeError: The token `[redacted]` was rejected"):
        assert line in text
    assert RedactSecrets([]).scrub("job ab12cd user telegram:42") == "job ab12cd user telegram:42"


def test_a_model_that_cannot_load_is_explained(env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("I2V_MODEL", str(tmp_path / "no-such-model"))
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(make_photo(192, 128))
    assert main(["animate", str(photo), "waves"]) == 1
    err = capsys.readouterr().err
    assert "Could not load the model" in err and "i2vbot doctor" in err
    # A job for Wan loads Wan first: the message names Wan's own setting.
    monkeypatch.setenv("I2V_MODEL", "ali-vilab/i2vgen-xl")
    monkeypatch.setenv("I2V_MODELS", "i2vgen-xl,wan")
    monkeypatch.setenv("I2V_WAN_MODEL", str(tmp_path / "no-wan"))
    assert main(["animate", str(photo), "waves --model wan"]) == 1
    err = capsys.readouterr().err
    assert f"Could not load the model wan ('{tmp_path / 'no-wan'}')" in err
    assert "Set I2V_WAN_MODEL" in err


def test_bench_writes_a_report_that_says_it_is_not_a_gpu_figure(tmp_path, tiny_model_dir,
                                                                 capsys):
    out = tmp_path / "RESULTS.md"
    assert main(["bench", "--model", str(tiny_model_dir), "--presets", "standard",
                 "--variants", "stock,engine", "--runs", "1", "--batches", "1",
                 "--out", str(out)]) == 0
    assert f"Report: {out}" in capsys.readouterr().out
    report = out.read_text()
    assert "not GPU figures" in report
    assert "| standard | stock |" in report and "| standard | engine |" in report
    assert out.with_suffix(".json").exists()


def test_a_bug_stops_the_command_with_one_line_and_the_story_in_the_log(env, monkeypatch,
                                                                        capsys):
    import adapters.cli

    async def broken(settings):
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(adapters.cli, "doctor", broken)
    assert main(["doctor"]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("i2vbot doctor stopped: RuntimeError: a bug of ours (details in ")
    log_file = line.split("(details in ")[1].rstrip(")")
    assert "Traceback" in open(log_file).read()


async def test_a_video_of_an_earlier_interrupted_run_is_reported_and_counted_delivered(
        env, tmp_path, capsys):
    from adapters.app import App
    from adapters.cli import TerminalNotifier
    from bot.models import ChatRef, JobRequest, JobStatus, Person
    from bot.settings import load_settings
    from tests.bot.conftest import FAST
    from tests.fake_executor import FakeExecutor

    app = await App.build(load_settings(), executor=FakeExecutor())
    notifier = TerminalNotifier(app)
    app.events.register("cli", notifier)
    await app.start()
    try:
        old = await app.core.submit(JobRequest(Person("cli", "me"), ChatRef("cli", "me"),
                                               make_photo(160, 128), f"waves {FAST}"))
        notifier.job_id = "another"
        while (await app.store.get_job(old.id)).status is not JobStatus.DELIVERED:
            await asyncio.sleep(0.05)
    finally:
        await app.close()
    assert f"An earlier job {old.id} finished: " in capsys.readouterr().err


@pytest.mark.slow
def test_extend_continues_a_video_from_the_terminal(env, tmp_path, capsys):
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(make_photo(192, 128))
    assert main(["animate", str(photo), "a cat --frames 8 --steps 10 --res 256p --seed 2"]) == 0
    job_id = capsys.readouterr().out.split("(job ")[1].split(",")[0]
    assert main(["extend", job_id, "the cat walking away --smooth"]) == 2
    assert "use --smooth on a new video" in capsys.readouterr().err
    out = tmp_path / "longer.mp4"
    assert main(["extend", job_id, "the cat walking away", "-o", str(out)]) == 0
    frames, fps = read_video(out)
    assert fps == 8 and frames.shape[0] == 8 + 7
    assert main(["extend", "nosuch"]) == 2
    assert "No job nosuch of yours" in capsys.readouterr().err


@pytest.mark.slow
def test_a_tiny_job_from_the_terminal_is_signed_and_verify_checks_it(env, tmp_path, capsys):
    from tests.credentials import flip_a_video_byte, made_by_ai

    photo = tmp_path / "cat.jpg"
    photo.write_bytes(make_photo(192, 128))
    out = tmp_path / "cat.mp4"
    assert main(["animate", str(photo), "a cat is turning its head --frames 8 --steps 10 "
                 "--size 192x128", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Content Credentials: made local certificate" in err  # the first start says so
    action = made_by_ai(out)  # read with c2pa.Reader, as any C2PA tool reads it
    assert action["parameters"]["model"] == "i2vgen-xl"
    assert "I2VGen-XL" in action["softwareAgent"]["name"]

    assert main(["verify", str(out)]) == 0
    block = capsys.readouterr().out
    assert block.startswith(f"{out}: Content Credentials (C2PA)")
    for words in ("made by:    i2v-bot", "model:      I2VGen-XL (i2vgen-xl, tiny) (made by "
                  "AI: trainedAlgorithmicMedia)", "when:       20",
                  "signature:  valid; this bot's own certificate", "changed after signing: no"):
        assert words in block
    assert len(block.strip().splitlines()) <= 8  # one short block

    flip_a_video_byte(out)
    assert main(["verify", str(out)]) == 1
    block = capsys.readouterr().out
    assert "signature:  NOT valid" in block and "changed after signing: YES" in block

    plain = encode_mp4(np.full((4, 64, 64, 3), 90, np.uint8), 8, tmp_path / "plain.mp4")
    assert main(["verify", str(plain.path)]) == 1
    assert "no Content Credentials" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "missing.mp4")]) == 2
    assert "Cannot read" in capsys.readouterr().err


def test_doctor_names_the_certificate_and_a_broken_key_stops_serve_in_one_line(
        env, tmp_path, monkeypatch, capsys):
    assert main(["doctor"]) == 0
    assert "content credentials: none yet: the first start makes a local certificate" in \
        capsys.readouterr().out
    from tests.credentials import operator_certificate

    cert, key = operator_certificate(tmp_path)
    monkeypatch.setenv("I2V_C2PA_CERT", str(cert))
    monkeypatch.setenv("I2V_C2PA_KEY", str(key))
    monkeypatch.setenv("I2V_WATERMARK", "AI")
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert f"content credentials: signed with I2V_C2PA_CERT={cert} ('Example Newsroom " \
           "signer', issued by 'Example Newsroom CA', es256), valid until 20" in out
    assert "visible label: 'AI'" in out

    key.write_text("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    monkeypatch.setenv("I2V_WEB", "on")
    monkeypatch.setenv("I2V_WEB_PORT", "0")
    assert main(["serve"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"I2V_C2PA_KEY={key} holds no PEM private key this bot can read."]
    assert main(["doctor"]) == 0
    assert f"content credentials: broken: I2V_C2PA_KEY={key}" in capsys.readouterr().out

    monkeypatch.setenv("I2V_PROVENANCE", "off")
    assert main(["doctor"]) == 0
    assert "content credentials: off (I2V_PROVENANCE=off)" in capsys.readouterr().out
