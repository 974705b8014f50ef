"""All configuration, read once from the environment and `.env` into one typed object.

Only the composition root (`adapters/app.py`) builds `Settings()`; everything else gets the
values it needs passed in. Every field is documented in `.env.example`.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from engine.spec.cards import DEFAULT_MODEL, RANDOM_WEIGHTS, card, cards, preset_names
from engine.spec.errors import Rejected
from engine.spec.moderation import DEFAULT as DEFAULT_CLASSIFIER
from engine.spec.moderation import Thresholds
from engine.spec.params import DEFAULT_PRESET

CommaList = Annotated[list[str], NoDecode]
MIN_PASSWORD = 8  # characters of a secret: I2V_WEB_PASSWORD, the Redis URL's, the webhook's
# Who may be an admin: Telegram and Discord users by their numeric id; the web page's and
# the terminal's users by their name there.
ADMIN_ID = {"telegram": r"\d+", "discord": r"\d+", "web": r"[\w.-]+", "cli": r"[\w.-]+"}

# What a bad value should have looked like, said when it is refused (pydantic's own words
# are for developers).
EXPECTED = {
    "I2V_ADMINS": "use telegram:<numeric id>, discord:<numeric id> or web:<id>, comma "
                  "separated (your Telegram id: ask @userinfobot; Discord: Developer Mode, "
                  "right click your name, Copy User ID; the web page shows yours at the "
                  "bottom)",
    "I2V_DTYPE": "use one of auto, bf16, fp16, fp32",
    "I2V_TRANSLATE": "use auto (translate what is not English for I2VGen-XL) or off",
    "I2V_FOCUS_BLUR": "use a number from 0.1 to 10 (the blur's radius in % of the photo's "
                      "shorter side)",
    "I2V_ATTENTION": "use one of sdpa, flash, cudnn, efficient, math, flash-attn, flash3, "
                     "flash3-hub, sage, xformers",
    "I2V_DEFAULT_PRESET": "use one of {presets}",
    "I2V_MODELS": "use model names from {models}, comma separated; the first is the default",
    "DISCORD_SYNC_COMMANDS": "use one of auto, always, never",
    "I2V_WEB": "use one of auto (the page runs when no chat token is set), on, off",
    "I2V_WEB_PORT": "use a port number from 1 to 65535 (0: any free port)",
    "I2V_WEB_TRUSTED_PROXIES": "use IP addresses or networks, comma separated (e.g. "
                               "127.0.0.1,10.0.0.0/8)",
    "I2V_RESET_HOUR_UTC": "use a whole hour from 0 to 23",
    "I2V_MAX_BATCH": "use a whole number from 1 to 8",
    "TELEGRAM_MAX_ALBUM": "use a whole number from 1 to 10",
    "DISCORD_GUILD_ID": "use the server's numeric id (Developer Mode, right click the server, "
                        "Copy Server ID)",
    "I2V_CREDIT_PACKS": "use credits:stars pairs, comma separated, e.g. 10:50,50:200 (credits "
                        "above 0 with at most two decimals, each amount once; whole Stars "
                        "from 1)",
    "I2V_PROVENANCE": "use on or off",
    "I2V_PROVENANCE_PROMPT": "use true or false",
    "I2V_WATERMARK": "use a short text such as AI (at most 40 characters of plain ASCII: "
                     "the label's font has no other letters), or nothing",
    "I2V_MODERATION": "use one of off, photos, photos+videos",
}


def expected(name: str) -> str | None:
    """What a variable's value should look like, with the cards' names filled in."""
    hint = EXPECTED.get(name)
    return hint.format(presets=", ".join(preset_names()), models=", ".join(cards())) \
        if hint else None


class CardWeights(PydanticBaseSettingsSource):
    """Each model's weights variable, named by its card (I2V_MODEL, I2V_WAN_MODEL, …): the
    cards are a registry, so these are not fields. Read from the same places and in the same
    order of precedence as the fields: the arguments, then the environment, then `.env`."""

    def __init__(self, settings_cls: type[BaseSettings], *sources: Any) -> None:
        super().__init__(settings_cls)
        self.sources = sources  # the library's own: init, environment, dotenv

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # every value comes from __call__

    def __call__(self) -> dict[str, Any]:
        weights: dict[str, str] = {}
        for model in cards().values():
            for source in reversed(self.sources):  # the lowest precedence first
                if isinstance(source, InitSettingsSource):
                    value = source.init_kwargs.get(model.weights_setting)
                else:
                    value = getattr(source, "env_vars", {}).get(model.weights_setting.lower())
                if value:
                    weights[model.name] = str(value)
        return {"model_weights": weights}


class SettingsError(Exception):
    """Bad settings, one line per variable: its name, the value, the expected form."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore", populate_by_name=True,
                                      env_ignore_empty=True)

    # Model and engine
    # The video models offered (engine/models/*/card.py); the first is the default.
    models: CommaList = Field([DEFAULT_MODEL], alias="I2V_MODELS")
    # I2VGen-XL's weights: a Hub id or a folder; "tiny"/"synthetic" (random weights) apply to
    # every model.
    model: str = Field(card(DEFAULT_MODEL).hub_id, alias="I2V_MODEL")
    # Every model's weights, from the variable its card names (CardWeights); unset: the Hub
    # id on its card.
    model_weights: dict[str, str] = Field(default_factory=dict)
    device: str = Field("auto", alias="I2V_DEVICE")
    dtype: Literal["auto", "bf16", "fp16", "fp32"] = Field("auto", alias="I2V_DTYPE")
    cpu_offload: bool = Field(False, alias="I2V_CPU_OFFLOAD")
    decode_chunk_size: int | None = Field(None, ge=1, alias="I2V_DECODE_CHUNK_SIZE")
    # Live previews: a frame of the clean prediction every this fraction of the steps (0:
    # none), never two within this many seconds.
    preview_every: float = Field(0.25, ge=0, lt=1, alias="I2V_PREVIEW_EVERY")
    preview_gap_s: float = Field(3.0, ge=0, alias="I2V_PREVIEW_SECONDS")
    # GPU speed-ups, off until `i2vbot bench` on your GPU shows they help.
    compile_unet: bool = Field(False, alias="I2V_COMPILE")
    channels_last: bool = Field(False, alias="I2V_CHANNELS_LAST")
    fuse_qkv: bool = Field(False, alias="I2V_FUSE_QKV")
    # torch's kernels (every model), or another package's through diffusers (Wan, FastWan).
    attention: Literal["sdpa", "flash", "cudnn", "efficient", "math", "flash-attn", "flash3",
                       "flash3-hub", "sage", "xformers"] = Field("sdpa", alias="I2V_ATTENTION")
    # Prompts to English for the models that read English only (I2VGen-XL): "auto"
    # translates what is not English, with these models (Hub ids or folders; "tiny" with
    # I2V_MODEL=tiny); "off" hands the model the prompt as written.
    translate: Literal["auto", "off"] = Field("auto", alias="I2V_TRANSLATE")
    translate_zh_model: str = Field("Helsinki-NLP/opus-mt-zh-en", alias="I2V_TRANSLATE_ZH_MODEL")
    translate_model: str = Field("Helsinki-NLP/opus-mt-mul-en", alias="I2V_TRANSLATE_MODEL")
    data_dir: Path = Field(Path("data"), alias="I2V_DATA_DIR")
    default_preset: str = Field(DEFAULT_PRESET, alias="I2V_DEFAULT_PRESET")
    output_retention_days: int = Field(14, ge=0, alias="I2V_OUTPUT_RETENTION_DAYS")
    log_level: str = Field("INFO", alias="I2V_LOG_LEVEL")

    # Platforms
    telegram_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str | None = Field(None, alias="TELEGRAM_API_BASE_URL")
    telegram_api_file_url: str | None = Field(None, alias="TELEGRAM_API_FILE_URL")
    telegram_webhook_url: str | None = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_port: int = Field(8443, alias="TELEGRAM_WEBHOOK_PORT")
    telegram_max_album: int = Field(4, ge=1, le=10, alias="TELEGRAM_MAX_ALBUM")
    # A self-hosted Bot API server started with --local: files by path, 2000 MB limits.
    telegram_local_mode: bool = Field(False, alias="TELEGRAM_LOCAL_MODE")
    # Unset: 20 MB down / 50 MB up (official server), 2000 MB each in local mode.
    telegram_download_limit_mb: float | None = Field(None, gt=0, alias="TELEGRAM_DOWNLOAD_LIMIT_MB")
    telegram_upload_limit_mb: float | None = Field(None, gt=0, alias="TELEGRAM_UPLOAD_LIMIT_MB")
    telegram_webhook_listen: str = Field("0.0.0.0", alias="TELEGRAM_WEBHOOK_LISTEN")
    telegram_webhook_secret: SecretStr | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    discord_token: SecretStr | None = Field(None, alias="DISCORD_BOT_TOKEN")
    discord_guild_id: int | None = Field(None, alias="DISCORD_GUILD_ID")
    discord_allow_dms: bool = Field(True, alias="DISCORD_ALLOW_DMS")
    # An HTTP proxy for everything the bot sends to Discord (REST and the gateway).
    discord_proxy: str | None = Field(None, alias="DISCORD_PROXY")
    discord_sync_commands: Literal["auto", "always", "never"] = Field(
        "auto", alias="DISCORD_SYNC_COMMANDS")

    # Scale-out: GPU workers on other machines through SAQ on Redis (empty: this process)
    redis_url: SecretStr | None = Field(None, alias="I2V_REDIS_URL")
    worker_heartbeat_s: int = Field(30, ge=2, le=600, alias="I2V_WORKER_HEARTBEAT_S")
    job_timeout_s: int = Field(3600, ge=60, alias="I2V_JOB_TIMEOUT_S")
    metrics_port: int | None = Field(None, ge=1, le=65535, alias="I2V_METRICS_PORT")

    # The web page: `auto` runs it when no chat token is set, `on` beside the chats too.
    web: Literal["auto", "on", "off"] = Field("auto", alias="I2V_WEB")
    web_host: str = Field("127.0.0.1", alias="I2V_WEB_HOST")
    web_port: int = Field(7860, ge=0, le=65535, alias="I2V_WEB_PORT")  # 0: any free port
    # Required to bind anywhere but the loopback interface; at least 8 characters.
    web_password: SecretStr | None = Field(None, alias="I2V_WEB_PASSWORD")
    # Reverse proxies whose X-Forwarded-For / -Proto are believed (addresses or networks).
    web_trusted_proxies: CommaList = Field(default_factory=list, alias="I2V_WEB_TRUSTED_PROXIES")
    web_max_connections_per_address: int = Field(
        32, ge=1, alias="I2V_WEB_MAX_CONNECTIONS_PER_ADDRESS")
    web_idle_timeout_s: float = Field(15.0, gt=0, alias="I2V_WEB_IDLE_TIMEOUT_S")
    web_body_timeout_s: float = Field(30.0, gt=0, alias="I2V_WEB_BODY_TIMEOUT_S")
    web_new_sessions_per_day: int = Field(6, ge=1, alias="I2V_WEB_NEW_SESSIONS_PER_DAY")
    web_submits_per_minute: int = Field(20, ge=1, alias="I2V_WEB_SUBMITS_PER_MINUTE")
    web_login_attempts: int = Field(5, ge=1, alias="I2V_WEB_LOGIN_ATTEMPTS")

    # People, quotas and fairness
    admins: CommaList = Field(default_factory=list, alias="I2V_ADMINS")
    daily_credits: float = Field(10.0, ge=0, alias="I2V_DAILY_CREDITS")
    trusted_daily_credits: float = Field(50.0, ge=0, alias="I2V_TRUSTED_DAILY_CREDITS")
    reset_hour_utc: int = Field(0, ge=0, le=23, alias="I2V_RESET_HOUR_UTC")
    max_jobs_per_user: int = Field(3, ge=1, alias="I2V_MAX_JOBS_PER_USER")
    max_queue: int = Field(50, ge=1, alias="I2V_MAX_QUEUE")
    max_batch: int = Field(1, ge=1, le=8, alias="I2V_MAX_BATCH")
    submits_per_minute: int = Field(10, ge=0, alias="I2V_SUBMITS_PER_MINUTE")
    stored_photos_mib: int = Field(200, ge=0, alias="I2V_STORED_PHOTOS_MIB")
    allowlist_mode: bool = Field(False, alias="I2V_ALLOWLIST_MODE")
    blocked_words: CommaList = Field(default_factory=list, alias="I2V_BLOCKED_WORDS")
    # Added to every job's negative prompt (e.g. "nsfw, nude"), whatever the person wrote.
    forced_negative: str = Field("", alias="I2V_FORCED_NEGATIVE")

    # Moderation: photos checked by a classifier before they queue, videos before they are
    # sent. On by default: a bot open to a group or the internet will be sent what its
    # operator must not animate, and a platform bans a bot for what it sends.
    moderation: Literal["off", "photos", "photos+videos"] = Field(
        "photos+videos", alias="I2V_MODERATION")
    # A Hub id or a folder (an image classifier saved with save_pretrained); unset: the
    # default classifier, or the tiny stand-in when I2V_MODEL is tiny or synthetic.
    moderation_model: str | None = Field(None, alias="I2V_MODERATION_MODEL")
    moderation_thresholds: Annotated[Thresholds, NoDecode] = Field(
        default_factory=Thresholds, alias="I2V_MODERATION_THRESHOLDS")
    moderation_device: str = Field("cpu", alias="I2V_MODERATION_DEVICE")
    moderation_keep: bool = Field(False, alias="I2V_MODERATION_KEEP")
    moderation_admins: bool = Field(True, alias="I2V_MODERATION_ADMINS")
    moderation_daily_limit: int = Field(3, ge=0, alias="I2V_MODERATION_DAILY_LIMIT")

    # Beyond one clip: --loop makes a video loop seamlessly (ping-pong or a crossfade of its
    # end into its start); "extend" continues a video up to this many times.
    loop_mode: Literal["pingpong", "crossfade"] = Field("pingpong", alias="I2V_LOOP_MODE")
    max_extensions: int = Field(4, ge=0, le=20, alias="I2V_MAX_EXTENSIONS")
    # --focus: how strongly the background is blurred, as the blur's radius in percent of
    # the photo's shorter side (1.5: 8 px on a 512 px photo).
    focus_blur: float = Field(1.5, ge=0.1, le=10.0, alias="I2V_FOCUS_BLUR")

    # Selling credits on Telegram for Stars: "credits:stars" packs (empty: nothing is sold),
    # and the answers to /paysupport and /terms that Telegram's rules for payments ask for.
    credit_packs: CommaList = Field(default_factory=list, alias="I2V_CREDIT_PACKS")
    pay_support: str | None = Field(None, alias="I2V_PAY_SUPPORT")
    terms: str | None = Field(None, alias="I2V_TERMS")

    # Marked as made by AI (bot/provenance/): a signed C2PA manifest in every video, made
    # with the operator's certificate (PEM files), else with one made once under data/c2pa.
    provenance: bool = Field(True, alias="I2V_PROVENANCE")
    c2pa_cert: Path | None = Field(None, alias="I2V_C2PA_CERT")
    c2pa_key: Path | None = Field(None, alias="I2V_C2PA_KEY")
    provenance_prompt: bool = Field(False, alias="I2V_PROVENANCE_PROMPT")
    # A visible label drawn in a corner of every frame ("AI"); empty: none.
    watermark: str = Field("", max_length=40, alias="I2V_WATERMARK")

    @field_validator("admins", "blocked_words", "models", "credit_packs", "web_trusted_proxies",
                     mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("moderation_thresholds", mode="before")
    @classmethod
    def _parse_thresholds(cls, value: object) -> object:
        return Thresholds.parse(value) if isinstance(value, str) else value

    @field_validator("admins")
    @classmethod
    def _check_admins(cls, value: list[str]) -> list[str]:
        for entry in value:
            platform, _, ident = entry.partition(":")
            if platform not in ADMIN_ID or not re.fullmatch(ADMIN_ID[platform], ident):
                raise ValueError(f"{entry!r} is not an admin: {EXPECTED['I2V_ADMINS']}")
        return value

    @field_validator("credit_packs")
    @classmethod
    def _check_packs(cls, value: list[str]) -> list[str]:
        seen: set[float] = set()
        for entry in value:
            match = re.fullmatch(r"(\d+(?:\.\d{1,2})?):(\d+)", entry)
            amount = float(match.group(1)) if match else 0
            if not match or not 0 < amount <= 100000 or int(match.group(2)) < 1 \
                    or amount in seen:
                raise ValueError(f"{entry!r} is not a pack: {EXPECTED['I2V_CREDIT_PACKS']}")
            seen.add(amount)
        return value

    def packs(self) -> list[tuple[float, int]]:
        """The credit packs on sale: (credits, Stars), in the order given."""
        pairs = (entry.split(":") for entry in self.credit_packs)
        return [(float(amount), int(stars)) for amount, stars in pairs]

    @field_validator("web_password")
    @classmethod
    def _check_password(cls, value: SecretStr | None) -> SecretStr | None:
        # Shorter ones are guessed, and cannot be scrubbed from the logs without wrecking them.
        if value is not None and len(value.get_secret_value().strip()) < MIN_PASSWORD:
            raise ValueError(f"use at least {MIN_PASSWORD} characters (not only spaces)")
        return value

    @field_validator("redis_url", "telegram_webhook_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """A secret the logs must never show is scrubbed as a whole value, which a short one
        cannot be without wrecking every line (bot/logs.py): refused here instead."""
        if value is None:
            return value
        secret = value.get_secret_value()
        if info.field_name == "redis_url":
            secret = urlsplit(secret).password or ""
            if secret and len(secret) < MIN_PASSWORD:
                raise ValueError(f"use a Redis password of at least {MIN_PASSWORD} characters "
                                 "(redis://:PASSWORD@host:6379/0)")
        elif len(secret) < MIN_PASSWORD:
            raise ValueError(f"use at least {MIN_PASSWORD} characters")
        return value

    @field_validator("web_trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an address: "
                                 f"{EXPECTED['I2V_WEB_TRUSTED_PROXIES']}") from None
        return value

    @field_validator("models")
    @classmethod
    def _check_models(cls, value: list[str]) -> list[str]:
        names = []
        for name in value:
            try:
                names.append(card(name).name)
            except Rejected:
                raise ValueError(f"{name!r} is not a model: {expected('I2V_MODELS')}") from None
        if not names:
            raise ValueError(str(expected("I2V_MODELS")))
        return list(dict.fromkeys(names))

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, file_secret_settings,
                CardWeights(settings_cls, init_settings, env_settings, dotenv_settings))

    def weights(self, model: str) -> str:
        """Where a model's weights come from: "tiny" and "synthetic" apply to all."""
        if self.model in RANDOM_WEIGHTS:
            return self.model
        return self.model_weights.get(model) or card(model).hub_id

    def translators(self) -> tuple[str, str] | None:
        """The translation models (Chinese, every other language), or None when off;
        "tiny" weights make them tiny too."""
        if self.translate == "off":
            return None
        if self.model in RANDOM_WEIGHTS:
            return "tiny", "tiny"
        return self.translate_zh_model, self.translate_model

    @property
    def moderation_classifier(self) -> str:
        """Where the moderation classifier comes from: "tiny" and "synthetic" in I2V_MODEL
        apply to it too unless I2V_MODERATION_MODEL names one."""
        if self.moderation_model:
            return self.moderation_model
        return self.model if self.model in RANDOM_WEIGHTS else DEFAULT_CLASSIFIER.hub_id

    def weights_setting(self, model: str) -> str:
        """The variable that says where `model`'s weights are, for messages."""
        if self.model in RANDOM_WEIGHTS:
            return type(self).model_fields["model"].alias or "I2V_MODEL"
        return card(model).weights_setting

    @field_validator("watermark")
    @classmethod
    def _check_watermark(cls, value: str) -> str:
        if not (value.isascii() and value.isprintable()):
            raise ValueError(str(expected("I2V_WATERMARK")))
        return value

    @field_validator("default_preset")
    @classmethod
    def _check_preset(cls, value: str) -> str:
        if value not in preset_names():
            raise ValueError(f"I2V_DEFAULT_PRESET must be one of {', '.join(preset_names())}")
        return value

    @property
    def web_enabled(self) -> bool:
        """Whether `serve` runs the web page: always when asked, and by default when there
        is no chat to serve, so that a fresh install shows something."""
        if self.web == "auto":
            return not (self.telegram_token or self.discord_token)
        return self.web == "on"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "i2vbot.sqlite3"

    def secrets(self) -> list[str]:
        """Values that must never reach a log line or a message. Of the Redis URL only its
        password: where Redis is belongs in a message that says it cannot be reached."""
        found = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value:
                secret = value.get_secret_value()
                found.append(urlsplit(secret).password if name == "redis_url" else secret)
        return [secret for secret in found if secret]


def variables() -> set[str]:
    """Every variable the settings read: the fields' and each card's weights variable."""
    names = {field.alias for field in Settings.model_fields.values() if field.alias}
    return names | {model.weights_setting for model in cards().values()}


def load_settings(**values: object) -> Settings:
    """The settings from the environment and `.env`; SettingsError names every bad one."""
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError("\n".join(_explain(error) for error in exc.errors())) from None


def _explain(error: object) -> str:
    assert isinstance(error, dict)
    name = str(error["loc"][0]) if error.get("loc") else "settings"
    field = next((f for f in Settings.model_fields.values() if f.alias == name), None)
    secret = field is not None and field.annotation is not None and "SecretStr" in str(
        field.annotation)
    value = "(hidden)" if secret else repr(error.get("input"))
    message = str(error.get("msg", ""))
    if message.startswith("Value error, "):  # our own validators say what is expected
        reason = message.removeprefix("Value error, ")
    else:
        reason = expected(name) or message[0].lower() + message[1:]
    return f"Setting {name}={value} is not valid: {reason}."
