"""What people read: captions that fit, progress bars, Chinese where asked, and a
catalogue in which every key the code uses exists in both languages and none is unused."""

import ast
import string
from dataclasses import replace
from pathlib import Path

from bot.errors import UserError
from bot.models import ChatRef, EventKind, Job, JobEvent, JobStatus, Note
from bot.quotas import Balance
from bot.service import QueueView
from bot.texts import CATALOGUE, error_text, language
from bot.views import (
    advice,
    duration,
    help_reply,
    mib,
    presets_reply,
    queue_reply,
    quota_reply,
    result_caption,
    status_line,
)
from engine.spec.params import GenParams
from engine.spec.work import Video

ROOT = Path(__file__).resolve().parents[2]


def job(prompt: str, cost: int = 100) -> Job:
    params = GenParams.from_preset("standard", prompt, seed=42, width=640, height=384)
    return Job(id="abc234", user_id=1, platform="cli", chat=ChatRef("cli", "me"),
               status=JobStatus.DONE, caption=prompt, params=params, cost=cost,
               input_path=Path("x"), attempts=1, created_at=0.0, started_at=10.0,
               finished_at=41.0)


RESULT = Video(path=Path("v.mp4"), poster=Path("v.jpg"), width=640, height=384, frames=16,
               fps=8, duration=2.0, size_bytes=1000)


def test_the_result_caption_names_every_parameter_and_fits_the_limit():
    caption = result_caption(job("a cat turning its head"), RESULT)
    for part in ("a cat turning its head", "preset standard", "seed 42", "640x384",
                 "16 frames @ 8 fps", "50 steps", "guidance 9.0", "took 31 s", "1 credit ·",
                 "job abc234"):
        assert part in caption
    assert "0.3 credits" in result_caption(job("waves", cost=30), RESULT)
    long = result_caption(job("slowly " * 140), RESULT, limit=1024)  # 980 characters
    assert len(long) <= 1024 and "…" in long and "seed 42" in long
    lowered = Job(**{**job("waves").__dict__, "note": Note("ran_lower", {"asked": "1024p",
                                                                        "ran": "768p"})})
    assert "Made at 768p: the GPU ran out of memory at 1024p." in result_caption(lowered,
                                                                                 RESULT)


def test_status_lines_show_place_progress_pause_and_chinese():
    queued = JobEvent(EventKind.QUEUED, job("waves"), position=3, eta_seconds=95)
    assert "#3 in line, about 2 min to wait" in status_line(queued)
    paused = JobEvent(EventKind.QUEUED, job("waves"), position=1, paused=True)
    assert "paused by an admin" in status_line(paused)
    progress = JobEvent(EventKind.PROGRESS, job("waves"), language="zh", step=25,
                        total_steps=50)
    assert "第 25/50 步" in status_line(progress) and "▰▰▰▰▰▰▱▱▱▱▱▱" in status_line(progress)
    failed = JobEvent(EventKind.FAILED, job("waves"), reason=Note("nan_frames"))
    assert "try another seed" in status_line(failed) and "credits were returned" in \
        status_line(failed)


def test_units_are_the_same_everywhere():
    assert mib(10 * 2**20) == "10" and mib(1.5 * 2**20) == "1.5"
    assert duration(95) == "2 min" and duration(91 * 60 + 1) == "92 min" and duration(3) == "3 s"
    balance = Balance(allowance=1000, spent=250, granted=0, left=750, resets_at=3 * 3600 + 60)
    assert "in about 4 h" in quota_reply(balance, "en", now=0)  # 3 h 1 min: rounded up
    view = QueueView(length=2, paused=True, mine=[(job("waves"), 0)])
    assert queue_reply(view, "zh") == "队列中有 2 个视频（已暂停）。你的：abc234 (生成中)。"


def test_languages_and_translated_errors():
    assert language("zh-hans") == language("zh-TW") == "zh"
    assert language("de") == language(None) == "en"
    err = UserError("out_of_range", name="frames", lo=8, hi=32, value=99)
    assert error_text(err, "zh") == "frames 必须在 8 到 32 之间（收到 99）。"
    assert str(err) == "frames must be between 8 and 32 (got 99)."


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_english_and_chinese_have_the_same_keys_and_placeholders():
    en, zh = CATALOGUE["en"], CATALOGUE["zh"]
    assert set(en) == set(zh)
    assert {k for k in en if _placeholders(en[k]) != _placeholders(zh[k])} == set()


def _strings_in_code() -> tuple[set[str], set[str]]:
    """Every string constant in the project's code, and the constant starts of f-strings
    (`f"status_{...}"` uses every key starting with "status_")."""
    constants, prefixes = set(), set()
    for package in ("bot", "engine", "adapters"):
        for path in (ROOT / package).rglob("*.py"):
            if path.parent.name == "texts":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    constants.add(node.value)
                elif isinstance(node, ast.JoinedStr) and node.values and isinstance(
                        node.values[0], ast.Constant):
                    prefixes.add(node.values[0].value)
    return constants, prefixes


def _keys_the_code_uses() -> set[str]:
    """The first argument of every text(), UserError(), Rejected(), GenerationFailed(),
    Note() and undeliverable() call."""
    calls = {"text", "UserError", "Rejected", "GenerationFailed", "OutOfGpuMemory", "Note",
             "undeliverable"}
    keys = set()
    for package in ("bot", "engine", "adapters"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                args = node.args[1:] if name == "undeliverable" else node.args
                if name in calls and args and isinstance(args[0], ast.Constant) \
                        and isinstance(args[0].value, str):
                    keys.add(args[0].value)
    return keys


def test_every_key_the_code_uses_exists_and_every_key_is_used():
    catalogue = set(CATALOGUE["en"])
    assert _keys_the_code_uses() - catalogue == set()
    constants, prefixes = _strings_in_code()
    unused = {key for key in catalogue if key not in constants
              and not any(p and key.startswith(p) for p in prefixes)}
    assert unused == set()


def with_params(base: Job, **changes) -> Job:
    return Job(**{**base.__dict__, "params": replace(base.params, **changes)})


def test_the_result_shows_the_persons_prompt_and_what_the_model_read():
    translated = with_params(job("一只猫在慢慢地转头"), prompt_language="zh",
                             translated_prompt="a cat is turning its head slowly",
                             negative_prompt="模糊", translated_negative="blurry")
    caption = result_caption(translated, RESULT)
    first, second, third = caption.splitlines()[:3]
    assert first == "🎬 一只猫在慢慢地转头"
    assert second == "🌐 I2VGen-XL read: a cat is turning its head slowly"
    assert third == "🌐 and avoided: blurry"
    assert "I2VGen-XL 读到的是：a cat is turning its head slowly" in result_caption(
        translated, RESULT, "zh")
    english = result_caption(job("a cat turning"), RESULT)
    assert "read:" not in english and "🌐" not in english
    failed = with_params(job("一只猫"), prompt_language="zh")  # the translator would not load
    assert "could not be loaded: I2VGen-XL read the prompt as written" in result_caption(
        failed, RESULT)
    long = with_params(job("猫" * 990), prompt_language="zh", translated_prompt="cat " * 250)
    caption = result_caption(long, RESULT, limit=1024)
    assert len(caption) <= 1024 and "🌐 I2VGen-XL read: cat" in caption and "seed 42" in caption


def test_the_result_names_focus_eta_and_the_recipe():
    made = with_params(job("a man walking"), focus=1.5, eta=0.3, recipe="walking")
    caption = result_caption(made, RESULT)
    assert "recipe walking · 🎯 subject in focus · eta 0.3" in caption
    assert "配方 walking · 🎯 主体聚焦 · eta 0.3" in result_caption(made, RESULT, "zh")
    assert "eta" not in result_caption(job("a man walking"), RESULT)


def test_advice_suggests_the_progressive_and_warns_of_a_stiff_guidance_once_each():
    walks = job("a man walks and the waves crashed").params
    assert advice(walks, "en") == [
        "💡 Motion comes out smoother with verbs in the progressive form: “walks” → “is "
        "walking”, “crashed” → “are crashing”. Your prompt was used as written."]
    assert advice(job("a man is walking").params, "en") == []
    zh = advice(walks, "zh")
    assert zh[0].startswith("💡 动作用进行时") and "“walks” → “is walking”" in zh[0]
    stiff = replace(job("a man is walking").params, guidance=12.0)
    assert advice(stiff, "en") == ["⚠️ Guidance 12 is above 10: the original app found 9 the "
                                   "sweet spot, and 10-12 stiffens the motion. It was used as "
                                   "you asked."]
    assert advice(replace(stiff, guidance=10.0), "en") == []  # the cat recipe's 10 is fine
    wan = GenParams.from_preset("standard", "a man is walking", model="wan", guidance=10.0)
    assert advice(wan, "en") == []  # Wan has no such point


def test_presets_list_the_recipes_with_their_costs_and_help_says_why():
    reply = presets_reply("en")
    assert "Recipes (--recipe NAME)" in reply
    assert "• walking: 640x384, 16 frames @ 8 fps, 60 steps, guidance 9.0 · 1.13 credits" \
        in reply
    assert "• waves: 768x448, 24 frames @ 12 fps, 70 steps, guidance 8.5 · 2.76 credits" in reply
    assert "• turning: 512x512, 16 frames @ 8 fps, 65 steps, guidance 10.0 · 1.3 credits" \
        in reply
    assert "Recipes" not in presets_reply("en", ("wan",))  # Wan has none
    assert "配方（--recipe 名称）" in presets_reply("zh")
    help_text = help_reply("en")
    for why in ("--focus  keep the subject sharp and blur the background, so the motion "
                "happens on the", "above 10 the motion stiffens", "0.2-0.4 the best balance",
                "--recipe NAME  a tested scene (walking, waves, turning)",
                "other languages are translated first", 'not "walks"'):
        assert why in help_text
    assert "--focus  主体保持清晰、背景虚化" in help_reply("zh")
