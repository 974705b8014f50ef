"""What only the Discord bot says, in English and Chinese; shared texts live in bot/texts."""

from __future__ import annotations

from bot.texts import language

EN: dict[str, str] = {
    "not_an_image": "“{name}” is not an image. Attach a JPEG, PNG or WebP photo.",
    "image_too_big": "“{name}” is {size_mb:.1f} MB; the limit is {limit_mb:.0f} MB. "
                     "Attach a smaller photo.",
    "no_image_in_message": "That message has no image attachment to animate.",
    "dms_off": "This bot works in servers only; use /animate in a channel.",
    "modal_title": "Animate image",
    "modal_prompt": "Describe the motion",
    "modal_placeholder": "a cat turning its head slowly --preset preview",
    "help_discord": "Use /animate with an image and a prompt, or right-click a message with "
                    "an image → Apps → Animate image. The options of /animate (or --flags "
                    "typed into the prompt) override the preset.",
    "paused_suffix": " (paused)",
    "running": "running",
    "admin_done": "{result}",
}

ZH: dict[str, str] = {
    "not_an_image": "“{name}” 不是图片。请附上 JPEG、PNG 或 WebP 照片。",
    "image_too_big": "“{name}” 大小 {size_mb:.1f} MB，超过上限 {limit_mb:.0f} MB，"
                     "请附上更小的照片。",
    "no_image_in_message": "这条消息没有可以生成视频的图片附件。",
    "dms_off": "此机器人只能在服务器中使用，请在频道里使用 /animate。",
    "modal_title": "生成视频",
    "modal_prompt": "描述动作",
    "help_discord": "使用 /animate 并附上图片和提示词，或右键带图片的消息 → 应用 → Animate image。"
                    "/animate 的选项（或提示词中的 --选项）会覆盖预设。",
    "paused_suffix": "（已暂停）",
    "running": "生成中",
}

CATALOGUE = {"en": EN, "zh": ZH}


def say(key: str, lang: str = "en", **params: object) -> str:
    template = CATALOGUE.get(lang, EN).get(key) or EN[key]
    return template.format(**params)


def lang_of(locale: object) -> str:
    """Chinese for any zh-* interaction locale, English otherwise."""
    return language(str(locale) if locale is not None else None)
