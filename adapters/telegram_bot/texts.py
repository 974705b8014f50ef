"""What only the Telegram bot says, in English and Chinese; shared strings live in bot.texts."""

from __future__ import annotations

EN: dict[str, str] = {
    "welcome": "Hi! Send me a photo with a caption that describes the motion and I will "
               "animate it into a short video.",
    "group_hint": "In groups, start the caption with /animate, or reply /animate PROMPT to "
                  "a photo.",
    "cmd_animate": "animate a photo (caption, or reply to a photo)",
    "cmd_help": "how to write a prompt, options, presets",
    "cmd_presets": "the quality presets and their cost",
    "cmd_preset": "set your default preset: /preset NAME",
    "cmd_quota": "your credits for today",
    "cmd_queue": "the queue and your place in it",
    "cmd_cancel": "cancel your video: /cancel [job]",
    "cmd_history": "your recent videos and their seeds",
    "preset_current": "Your default preset: {preset}. Change it with /preset NAME.",
    "album_none": "None of the files in this album is a photo I can use.",
    "paused_suffix": " (paused)",
    "running": "running",
}

ZH: dict[str, str] = {
    "welcome": "你好！发送一张照片，并在说明中描述动作，我会把它变成一段短视频。",
    "group_hint": "在群组中，请让说明以 /animate 开头，或回复一张照片：/animate 提示词。",
    "cmd_animate": "生成视频（照片说明，或回复照片）",
    "cmd_help": "提示词写法、选项与预设",
    "cmd_presets": "画质预设及消耗点数",
    "cmd_preset": "设置默认预设：/preset 名称",
    "cmd_quota": "今日剩余点数",
    "cmd_queue": "队列与你的位置",
    "cmd_cancel": "取消视频：/cancel [任务]",
    "cmd_history": "最近的视频及其种子",
    "preset_current": "你的默认预设：{preset}。用 /preset 名称 修改。",
    "album_none": "这个相册里没有可用的照片。",
    "paused_suffix": "（已暂停）",
    "running": "生成中",
}

CATALOGUE = {"en": EN, "zh": ZH}
COMMANDS = ("animate", "help", "presets", "preset", "quota", "queue", "cancel", "history")


def tg_text(key: str, lang: str = "en", **params: object) -> str:
    template = CATALOGUE.get(lang, EN).get(key) or EN[key]
    return template.format(**params)
