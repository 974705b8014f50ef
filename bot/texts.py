"""Everything the bots say, in English and Chinese, shared by every platform.

`text(key, lang, **params)` looks a message up; a key missing in Chinese falls back to
English. A `UserError` is translated by its key, or shown in English if none matches.
"""

from __future__ import annotations

from bot.models import EventKind, Job, JobEvent, VideoResult
from bot.quotas import PRESET_COSTS, credits
from engine.errors import UserError
from engine.params import FPS, FRAMES, GUIDANCE, PRESETS, STEPS

EN: dict[str, str] = {
    "queued": "⏳ Queued: #{position} in line, about {eta} to wait. Job {job}, cost {cost} credits.",
    "queued_no_eta": "⏳ Queued: #{position} in line. Job {job}, cost {cost} credits.",
    "started": "🎬 Starting job {job}…",
    "progress": "🎬 Animating job {job}\n{bar} step {step}/{total}",
    "encoding": "🎞 Encoding the video for job {job}…",
    "done": "✅ Done: job {job}.",
    "failed": "❌ Job {job} failed: {reason} Your credits were returned.",
    "cancelled": "🛑 Job {job} was cancelled. Your credits were returned.",
    "internal_error": "Something went wrong on our side; it has been logged.",
    "interrupted": "The bot restarted twice while making it.",
    "restarted": "The bot restarted while making this video; it will be tried once more.",
    "result": "🎬 {prompt}\npreset {preset} · seed {seed} · {width}x{height} · {frames} frames @ "
              "{fps} fps · {steps} steps · guidance {guidance} · {seconds:.0f} s · {cost} credits · job {job}",
    "need_photo": "Send a photo with a caption that describes the motion, e.g. "
                  "“a cat turning its head slowly”.",
    "need_caption": "Add a caption describing the motion, e.g. “a woman smiling and waving "
                    "slowly”. See /help for tips.",
    "banned": "You cannot use this bot.",
    "not_allowed": "This is a private bot; ask an admin to add you.",
    "blocked_prompt": "This prompt can't be used. Please try a different one.",
    "too_many_jobs": "You already have {count} videos waiting or running (the limit is "
                     "{limit}). Wait for one to finish, or /cancel one.",
    "queue_full": "The bot is busy ({count} videos in line). Please try again later.",
    "paused": "The queue is paused by an admin; your video will start when it resumes.",
    "no_such_job": "No job {job} of yours was found. /history lists your jobs.",
    "nothing_to_cancel": "You have no video waiting or running.",
    "not_cancellable": "Job {job} is already {status}.",
    "cancelling": "Cancelling job {job}…",
    "not_yours": "Only the person who asked for this video can use its buttons.",
    "preset_set": "Your default preset is now {preset}.",
    "quota": "Credits left today: {left} of {allowance} (used {spent}, extra {granted}). "
             "Resets in about {hours} h. Standard costs 1 credit.",
    "quota_unlimited": "You have no credit limit (admin).",
    "queue_empty": "The queue is empty: a new video starts right away.",
    "queue_line": "{count} videos in line{paused}. {mine}",
    "queue_mine": "Yours: {jobs}.",
    "queue_none_mine": "None of them is yours.",
    "history_empty": "You have no videos yet.",
    "history_head": "Your recent videos:",
    "history_line": "{job} · {status} · {preset} · seed {seed} · {prompt}",
    "button_reroll": "🎲 Re-roll",
    "button_better": "✨ Better quality",
    "button_cancel": "✖ Cancel",
    "top_preset": "This is already the best preset.",
    "admin_only": "This command is for admins.",
    "downloading": "Got it, checking the photo…",
    "album_limit": "Only the first {limit} photos of an album are animated.",
    "photo_too_big": "This file is {size_mb:.0f} MB; the limit is {limit_mb:.0f} MB. "
                     "Send a smaller photo.",
    "video_too_big": "The video came out at {size_mb:.1f} MB, over the upload limit of "
                     "{limit_mb:.0f} MB even after shrinking. Try fewer frames or a lower "
                     "resolution.",
    "late_result": "{mention} your video is ready (job {job}).",
}

ZH: dict[str, str] = {
    "queued": "⏳ 已排队：第 {position} 位，约需等待 {eta}。任务 {job}，消耗 {cost} 点。",
    "queued_no_eta": "⏳ 已排队：第 {position} 位。任务 {job}，消耗 {cost} 点。",
    "started": "🎬 任务 {job} 开始生成…",
    "progress": "🎬 正在生成任务 {job}\n{bar} 第 {step}/{total} 步",
    "encoding": "🎞 正在为任务 {job} 编码视频…",
    "done": "✅ 完成：任务 {job}。",
    "failed": "❌ 任务 {job} 失败：{reason} 点数已退还。",
    "cancelled": "🛑 任务 {job} 已取消，点数已退还。",
    "internal_error": "服务端出错，已记录日志。",
    "interrupted": "生成过程中机器人重启了两次。",
    "restarted": "生成时机器人重启了，将再试一次。",
    "result": "🎬 {prompt}\n预设 {preset} · 种子 {seed} · {width}x{height} · {frames} 帧 @ {fps} fps"
              " · {steps} 步 · 引导系数 {guidance} · 用时 {seconds:.0f} 秒 · 消耗 {cost} 点 · 任务 {job}",
    "need_photo": "请发送一张照片，并在说明中描述动作，例如“a cat turning its head slowly”。",
    "need_caption": "请为照片添加说明来描述动作，例如“a woman smiling and waving slowly”。"
                    "发送 /help 查看技巧。",
    "banned": "你无法使用此机器人。",
    "not_allowed": "这是私有机器人，请联系管理员把你加入名单。",
    "blocked_prompt": "该提示词无法使用，请换一个。",
    "too_many_jobs": "你已有 {count} 个视频在排队或生成中（上限 {limit}）。请等待完成或用 /cancel 取消。",
    "queue_full": "机器人正忙（队列中有 {count} 个视频），请稍后再试。",
    "paused": "管理员已暂停队列，恢复后你的视频会开始生成。",
    "no_such_job": "没有找到你的任务 {job}。/history 可查看你的任务。",
    "nothing_to_cancel": "你没有排队或生成中的视频。",
    "not_cancellable": "任务 {job} 已经是 {status} 状态。",
    "cancelling": "正在取消任务 {job}…",
    "not_yours": "只有发起请求的人才能使用这些按钮。",
    "preset_set": "你的默认预设已改为 {preset}。",
    "quota": "今日剩余点数：{left} / {allowance}（已用 {spent}，额外 {granted}）。约 {hours} 小时后重置。"
             "标准预设消耗 1 点。",
    "quota_unlimited": "你没有点数限制（管理员）。",
    "queue_empty": "队列为空，新视频会立即开始。",
    "queue_line": "队列中有 {count} 个视频{paused}。{mine}",
    "queue_mine": "你的：{jobs}。",
    "queue_none_mine": "其中没有你的。",
    "history_empty": "你还没有生成过视频。",
    "history_head": "你最近的视频：",
    "button_reroll": "🎲 换个种子",
    "button_better": "✨ 更高画质",
    "button_cancel": "✖ 取消",
    "top_preset": "已经是最高画质预设。",
    "admin_only": "此命令仅限管理员。",
    "downloading": "收到，正在检查照片…",
    "album_limit": "相册中只会处理前 {limit} 张照片。",
    "photo_too_big": "文件大小 {size_mb:.0f} MB，超过上限 {limit_mb:.0f} MB，请发送更小的照片。",
    "video_too_big": "视频压缩后仍有 {size_mb:.1f} MB，超过上传上限 {limit_mb:.0f} MB。请减少帧数或降低分辨率。",
    "late_result": "{mention} 你的视频已生成（任务 {job}）。",
    # Errors raised by the engine and the caption parser, by key.
    "unknown_flag": "未知选项 {flag}。可用选项：{options}。",
    "bad_flag_value": "{flag} 需要 {expected}（收到 {value}）。",
    "out_of_range": "{name} 必须在 {lo} 到 {hi} 之间（收到 {value}）。",
    "bad_size": "尺寸 {size} 不可用：每边须为 {multiple} 的倍数，范围 {lo}-{hi}，例如 640x384。",
    "caption_too_long": "说明有 {length} 个字符，上限为 {limit}，请缩短。",
    "prompt_too_long": "提示词有 {length} 个字符，上限为 {limit}，请缩短。",
    "empty_prompt": "请描述动作，例如“a cat turning its head slowly”。",
    "bad_preset": "未知预设 “{name}”。可选：{choices}。",
    "quota_exceeded": "需要 {cost} 点，你今天还剩 {left} 点。可改用 preview 预设，或约 {hours} 小时后再试。",
    "video_too_large": "视频超出此处的上传上限（{max_bytes} 字节），请减少帧数、降低分辨率或帧率。",
    # Photo checks of engine/images.py, by key.
    "image_empty": "文件是空的，请重新发送照片。",
    "image_unreadable": "无法识别这个文件，请发送 JPEG、PNG 或 WebP 照片。",
    "image_damaged": "照片似乎已损坏或不完整，请重新发送或换一张。",
    "image_format": "不支持 {format} 格式的图片，请发送 JPEG、PNG 或 WebP 照片。",
    "image_animated": "不支持动图，请发送一张静态的 JPEG、PNG 或 WebP 照片。",
    "image_too_small": "照片尺寸为 {size}，短边至少需要 {min_side} 像素，请发送更大的照片。",
    "image_too_large": "照片太大（{size}），上限为 {max_megapixels} 百万像素，请发送更小的照片。",
}

CATALOGUE = {"en": EN, "zh": ZH}


def language(code: str | None) -> str:
    """'zh-hans', 'zh-CN', 'zh-TW' -> 'zh'; everything else -> 'en'."""
    return "zh" if code and code.lower().startswith("zh") else "en"


def text(key: str, lang: str = "en", **params: object) -> str:
    template = CATALOGUE.get(lang, EN).get(key) or EN[key]
    return template.format(**params)


def error_text(error: UserError, lang: str = "en") -> str:
    if lang != "en" and error.key in CATALOGUE.get(lang, {}):
        try:
            return text(error.key, lang, **error.params)
        except (KeyError, IndexError):
            pass
    return error.message


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"


def progress_bar(step: int, total: int, width: int = 12) -> str:
    filled = round(width * step / total) if total else 0
    return "▰" * filled + "▱" * (width - filled)


def status_text(event: JobEvent) -> str:
    """The one status line a chat shows for a job, edited in place as events arrive."""
    lang, job = event.language, event.job
    kind = event.kind
    if kind is EventKind.QUEUED:
        key = "queued" if event.eta_seconds is not None else "queued_no_eta"
        return text(key, lang, position=event.position, eta=duration(event.eta_seconds),
                    job=job.id, cost=credits(job.cost))
    if kind is EventKind.STARTED:
        return text("started", lang, job=job.id)
    if kind is EventKind.PROGRESS:
        return text("progress", lang, job=job.id, step=event.step, total=event.total_steps,
                    bar=progress_bar(event.step, event.total_steps))
    if kind is EventKind.ENCODING:
        return text("encoding", lang, job=job.id)
    if kind is EventKind.DONE:
        return text("done", lang, job=job.id)
    if kind is EventKind.FAILED:
        return text("failed", lang, job=job.id, reason=event.message or "")
    return text("cancelled", lang, job=job.id)


def result_caption(job: Job, result: VideoResult, lang: str = "en", limit: int = 1024) -> str:
    """The caption under a finished video, the prompt shortened so the whole fits `limit`."""
    p = job.params
    fields = dict(preset=p.preset, seed=p.seed, width=result.width, height=result.height,
                  frames=result.frames, fps=result.fps, steps=p.steps, guidance=p.guidance,
                  seconds=job.run_seconds or 0.0, cost=credits(job.cost), job=job.id)
    rest = len(text("result", lang, prompt="", **fields))
    prompt = p.prompt
    if rest + len(prompt) > limit:
        prompt = prompt[: max(0, limit - rest - 1)] + "…"
    caption = text("result", lang, prompt=prompt, **fields)
    if job.note:
        caption = (caption + "\n" + job.note)[:limit]
    return caption


def presets_text(lang: str = "en") -> str:
    head = "Presets (credits):" if lang == "en" else "预设（消耗点数）："
    lines = [head]
    for p in PRESETS.values():
        lines.append(f"• {p.name}: {p.resolution}, {p.frames} frames @ {p.fps} fps, {p.steps} "
                     f"steps, guidance {p.guidance} · {credits(PRESET_COSTS[p.name])} · "
                     f"{p.description}")
    return "\n".join(lines)


HELP_EN = f"""Send a photo with a caption that describes the motion; a short video comes back.

How to write a prompt: subject + action + direction/speed + ambience, in English, with
present progressive verbs and at most about three actions.
• A cat turning its head slowly to the right in soft daylight
• A woman smiling and waving slowly
• Gentle waves lapping on the shore, camera panning left slowly
• Leaves falling gently in autumn wind
Avoid abstract words like “beautiful scene”. Photos with one clear subject work best.

Options in the caption (they override the preset):
--preset NAME  ({", ".join(PRESETS)})
--seed N  (same seed, same video)
--frames N  ({FRAMES[0]}-{FRAMES[1]})   --fps N  ({FPS[0]}-{FPS[1]})
--steps N  ({STEPS[0]}-{STEPS[1]})   --guidance X or --gs X  ({GUIDANCE[0]}-{GUIDANCE[1]}; 9 is a good start,
  raise to 11 if nothing moves)
--neg words to avoid   --res 256p|512p|768p|1024p   --size 640x384

Tips: start with --preset preview to check the motion, then re-roll or ask for better
quality. If the end of a clip drifts, use fewer frames.
Commands: /presets /preset NAME /quota /queue /cancel [job] /history"""

HELP_ZH = f"""发送一张照片，并在说明里描述动作，机器人会回复一段短视频。

提示词写法：主体 + 动作 + 方向/速度 + 环境氛围，建议用英文、进行时，动作不超过三个。
• A cat turning its head slowly to the right in soft daylight
• A woman smiling and waving slowly
• Gentle waves lapping on the shore, camera panning left slowly
避免“beautiful scene”这类抽象描述；主体清晰的照片效果最好。

说明中的选项（覆盖预设）：
--preset 名称（{", ".join(PRESETS)}）  --seed N（相同种子得到相同视频）
--frames N（{FRAMES[0]}-{FRAMES[1]}）  --fps N（{FPS[0]}-{FPS[1]}）  --steps N（{STEPS[0]}-{STEPS[1]}）
--guidance X 或 --gs X（{GUIDANCE[0]}-{GUIDANCE[1]}，建议 9，动作不明显可提到 11）
--neg 不想要的内容  --res 256p|512p|768p|1024p  --size 640x384

技巧：先用 --preset preview 快速验证动作，再换种子或提高画质；结尾失真时减少帧数。
命令：/presets /preset 名称 /quota /queue /cancel [任务] /history"""


def help_text(lang: str = "en") -> str:
    return HELP_ZH if lang == "zh" else HELP_EN

