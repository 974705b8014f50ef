"""Settings: one typed object, every variable documented, the example file usable as is."""

import re
import shutil
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings, variables

ROOT = Path(__file__).resolve().parents[2]


def documented(path: Path) -> set[str]:
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", path.read_text(), re.MULTILINE))


def test_every_setting_is_in_env_example_and_readme():
    names = variables()
    assert documented(ROOT / ".env.example") == names
    readme = (ROOT / "README.md").read_text()
    assert {n for n in names if f"`{n}`" not in readme} == set()


def test_the_example_file_loads_as_it_is(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in documented(ROOT / ".env.example"):
        monkeypatch.delenv(name, raising=False)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    settings = Settings()
    assert settings.model == "ali-vilab/i2vgen-xl" and settings.admins == []
    assert settings.telegram_token is None and settings.discord_guild_id is None
    # Moderation is on, with the default classifier, for a careful operator's first start.
    assert settings.moderation == "photos+videos" and settings.moderation_model is None
    assert settings.moderation_classifier == "Falconsai/nsfw_image_detection"
    assert settings.moderation_thresholds.limits == (("nsfw", 0.5),)


def test_moderation_settings_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.delenv("I2V_MODERATION_MODEL", raising=False)  # tests set the tiny one
    monkeypatch.setenv("I2V_MODERATION_THRESHOLDS", "nsfw:0.7, gore:0.9")
    monkeypatch.setenv("I2V_MODEL", "tiny")
    settings = Settings(_env_file=None)
    assert settings.moderation_thresholds.limits == (("nsfw", 0.7), ("gore", 0.9))
    assert settings.moderation_classifier == "tiny"  # random weights apply to it too
    monkeypatch.setenv("I2V_MODERATION_MODEL", "/models/my-classifier")
    assert Settings(_env_file=None).moderation_classifier == "/models/my-classifier"
    monkeypatch.setenv("I2V_MODERATION_THRESHOLDS", "nsfw")
    monkeypatch.setenv("I2V_MODERATION", "on")
    with pytest.raises(SettingsError) as bad:
        load_settings()
    assert "Setting I2V_MODERATION='on' is not valid: use one of off, photos, " \
        "photos+videos." in str(bad.value)
    assert "Setting I2V_MODERATION_THRESHOLDS='nsfw' is not valid: 'nsfw' is not " \
        "label:score" in str(bad.value)


def test_lists_are_comma_separated_and_tokens_stay_secret(monkeypatch):
    monkeypatch.setenv("I2V_ADMINS", "telegram:1, discord:2")
    monkeypatch.setenv("I2V_BLOCKED_WORDS", "gore,  violence")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "42:secret-value")
    settings = Settings(_env_file=None)
    assert settings.admins == ["telegram:1", "discord:2"]
    assert settings.blocked_words == ["gore", "violence"]
    assert "secret-value" not in repr(settings) and settings.secrets() == ["42:secret-value"]


def test_a_label_the_font_cannot_draw_is_refused_by_name():
    from bot.settings import SettingsError, load_settings

    assert load_settings(_env_file=None, I2V_WATERMARK="AI-generated").watermark == \
        "AI-generated"
    for bad in ("AI 生成", "x" * 41):
        with pytest.raises(SettingsError, match="I2V_WATERMARK"):
            load_settings(_env_file=None, I2V_WATERMARK=bad)


def test_a_secret_too_short_to_scrub_from_the_logs_is_refused_by_name():
    from bot.settings import SettingsError, load_settings

    ok = load_settings(_env_file=None, I2V_REDIS_URL="redis://:long-enough@127.0.0.1:6379/0",
                       TELEGRAM_WEBHOOK_SECRET="s3cret-token")
    assert sorted(ok.secrets()) == ["long-enough", "s3cret-token"]
    assert load_settings(_env_file=None, I2V_REDIS_URL="redis://127.0.0.1:6379/0").secrets() \
        == []  # no password: nothing to hide
    for name, value in (("I2V_REDIS_URL", "redis://:pass@127.0.0.1:6379/0"),
                        ("TELEGRAM_WEBHOOK_SECRET", "short")):
        with pytest.raises(SettingsError, match=name) as refused:
            load_settings(_env_file=None, **{name: value})
        assert "pass@" not in str(refused.value) and "short" not in str(refused.value)


def test_fastwan_has_its_own_weights_variable_and_wan_its_attention_kernels(monkeypatch,
                                                                          tmp_path):
    monkeypatch.setenv("I2V_MODELS", "wan,turbo")
    monkeypatch.setenv("I2V_TURBO_MODEL", str(tmp_path / "fastwan"))
    monkeypatch.setenv("I2V_ATTENTION", "flash3")
    settings = Settings(_env_file=None)
    assert settings.models == ["wan", "turbo"] and settings.attention == "flash3"
    assert settings.weights("turbo") == str(tmp_path / "fastwan")
    assert settings.weights("wan") == "Wan-AI/Wan2.2-TI2V-5B-Diffusers"
    assert settings.weights_setting("turbo") == "I2V_TURBO_MODEL"
    monkeypatch.delenv("I2V_TURBO_MODEL")
    assert Settings(_env_file=None).weights("fastwan") == \
        "FastVideo/FastWan2.2-TI2V-5B-FullAttn-Diffusers"
