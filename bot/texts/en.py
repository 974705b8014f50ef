"""Everything the bots say, in English. `zh.py` has the same keys; a test keeps them equal
and checks that every key the code uses exists and every key here is used."""

from __future__ import annotations

# The ranges are the offered models' (bot/views.py's help_reply fills them in).
HELP = """Send a photo with a caption that describes the motion; a short video comes back.

How to write a prompt: subject + action + direction/speed + ambience, with present
progressive verbs ("is walking", not "walks": the motion comes out smoother; the reply
says when another form would do better) and at most about three actions.
• A cat turning its head slowly to the right in soft daylight
• A woman smiling and waving slowly
• Gentle waves lapping on the shore, camera panning left slowly
• Leaves falling gently in autumn wind
Any language works: I2VGen-XL reads English only, so other languages are translated first
(the result shows what it read); Wan reads your words as written.
Avoid abstract words like “beautiful scene”. Photos with one clear subject work best.

Options in the caption (they override the preset):
--preset NAME  ({presets})
--recipe NAME  a tested scene ({recipes}): its size, frames, fps, steps and
  guidance (/presets lists them); with no prompt, its own tested prompt
--seed N  (same seed, same video)
--frames N  ({frames})   --fps N  ({fps})
--steps N  ({steps})   --guidance X or --gs X  ({guidance}; 9 is the sweet spot:
  raise to 11 only if nothing moves, above 10 the motion stiffens)
--neg words to avoid   --res {resolutions}   --size 640x384
--focus  keep the subject sharp and blur the background, so the motion happens on the
  subject and not behind it
--eta X  I2VGen-XL's sampler noise per step, 0-1: 0 (its default) adds none; the
  original app found 0.2-0.4 the best balance, and more makes frames less consistent
--model NAME  which video model (/presets lists those offered here{others})
--loop  a video that loops seamlessly   --smooth  smoother motion (3x the frame rate)
--fast  the model's speed mode: a half to a quarter of the credits (a different, rougher
  video; --model turbo is fast by itself)
--extend JOB  continue one of your videos (or press ⏩ under it; a reply with a new
  prompt to the video continues it with that prompt)

Tips: start with --preset preview to check the motion, then re-roll or ask for better
quality. If the end of a clip drifts, use fewer frames.
Commands: /presets /preset NAME /quota /queue /cancel [job] /history /extend JOB [prompt]"""

EN: dict[str, str] = {
    # A job's status message, edited as it moves.
    "queued": "⏳ Queued: #{position} in line, about {eta} to wait. Job {job}, cost {cost}.",
    "queued_no_eta": "⏳ Queued: #{position} in line. Job {job}, cost {cost}.",
    "paused": "The queue is paused by an admin; your video will start when it resumes.",
    "workers_unreachable": "The GPU workers cannot be reached right now; your video will "
                           "start when they are back.",
    "started": "🎬 Starting job {job}…",
    "progress": "🎬 Animating job {job}\n{bar} step {step}/{total}",
    "encoding": "🎞 Encoding the video for job {job}…",
    "done": "✅ Done: job {job}.",
    "failed": "❌ Job {job} failed: {reason} Your credits were returned.",
    "cancelled": "🛑 Job {job} was cancelled. Your credits were returned.",
    "cancelling": "Cancelling job {job}…",
    "result": "🎬 {prompt}\n{model} · preset {preset} · seed {seed} · {width}x{height} · {frames} frames @ "
              "{fps} fps · {steps} steps · guidance {guidance} · took {seconds} · "
              "{cost} · job {job}",
    "result_fast": "⚡ speed mode: {how}",
    "fast_how_i2vgen-xl": "DPM-Solver++ at half the steps, T-GATE and DeepCache",
    "fast_how_wan": "TaylorSeer cache, guidance on the first half of the steps",
    "result_loop": "🔁 loops",
    "result_smooth": "smoothed to {fps} fps",
    "result_extension": "extension {number}",
    "result_focus": "🎯 subject in focus",
    "result_eta": "eta {eta}",
    "result_recipe": "recipe {recipe}",
    "result_read": "🌐 {model} read: {prompt}",
    "result_read_negative": "🌐 and avoided: {negative}",
    "result_untranslated": "🌐 The translation model could not be loaded: {model} read the "
                           "prompt as written.",
    # Advice on a new job's settings, sent once with it; the settings are used as given.
    "coach_hint": "💡 Motion comes out smoother with verbs in the progressive form: {pairs}. "
                  "Your prompt was used as written.",
    "coach_pair": "“{found}” → “{better}”",
    "guidance_stiff": "⚠️ Guidance {guidance} is above {limit}: the original app found 9 the "
                      "sweet spot, and 10-12 stiffens the motion. It was used as you asked.",
    "credit_one": "1 credit",
    "credit_many": "{amount} credits",
    # Notes and failure reasons of a job.
    "restarted": "The bot restarted while making this video; it was tried once more.",
    "interrupted": "The bot restarted twice while making it.",
    "worker_lost": "The GPU worker making this video was lost; it was tried once more.",
    "worker_lost_twice": "The GPU worker making it was lost twice.",
    "ran_lower": "Made at {ran}: the GPU ran out of memory at {asked}.",
    "video_lost": "The finished video was lost before it could be sent.",
    "internal_error": "Something went wrong on our side; it has been logged.",
    "sign_failed": "The video was made but could not be marked as made by AI, so it was not sent; your credits are back and the admin can see why in the log.",
    "out_of_memory": "The GPU ran out of memory at {size}. Try a lower resolution or fewer "
                     "frames.",
    "out_of_memory_twice": "The GPU ran out of memory at {size} and again at {lower}. Try a "
                           "lower resolution or fewer frames.",
    "nan_frames": "The model produced broken (NaN) frames; try another seed.",
    "black_frames": "The model produced black frames; try another seed.",
    "input_missing": "The photo of this job is gone; send it again.",
    "video_too_large": "The video does not fit the {limit_mib} MiB upload limit here. Ask for "
                       "fewer frames, a lower resolution or a lower fps.",
    "video_too_big": "The video came out at {size_mib} MiB, over the upload limit of "
                     "{limit_mib} MiB. Try fewer frames or a lower resolution.",
    "upload_failed": "The video was made but could not be sent here.",
    "chat_gone": "The bot can no longer write in this chat.",
    # Refusals.
    "need_photo": "Send a photo with a caption that describes the motion, e.g. “a cat "
                  "turning its head slowly”.",
    "need_caption": "Add a caption describing the motion, e.g. “a woman smiling and waving "
                    "slowly”. See /help for tips.",
    "banned": "You cannot use this bot.",
    "not_allowed": "This is a private bot; ask an admin to add you.",
    "blocked_prompt": "This prompt can't be used. Please try a different one.",
    # Moderation: neutral words, the same whatever the classifier saw.
    "moderation_refused": "This photo can't be used here. Please send a different one.",
    "moderation_refused_video": "The video made from it can't be sent here.",
    "moderation_unavailable": "Photos can't be checked right now, so none are accepted. "
                              "Please try again later.",
    "moderation_unavailable_video": "The video could not be checked, so it was not sent.",
    "moderation_paused": "You can't send more photos today. Please try again tomorrow.",
    "too_many_jobs": "You already have {count} videos waiting or running (the limit is "
                     "{limit}). Wait for one to finish, or /cancel one.",
    "queue_full": "The bot is busy ({count} videos in line). Please try again later.",
    "too_many_submits": "You sent {limit} videos within a minute: wait {seconds} s, then send "
                        "it again.",
    "starting": "The bot is starting: its model is loading. Send it again in a minute.",
    "quota_exceeded": "This needs {cost} credits and you have {left} left today. Try the "
                      "preview preset, or wait about {hours} h for the reset.",
    "no_such_job": "No job {job} of yours was found. /history lists your jobs.",
    "nothing_to_cancel": "You have no video waiting or running.",
    "not_cancellable": "Job {job} is already {status}.",
    "not_yours": "Only the person who asked for this video can use its buttons.",
    "top_preset": "This is already the best preset.",
    "not_extendable": "Job {job} has no finished video to continue (yet, or any more).",
    "extend_usage": "Usage: /extend JOB [new prompt], or reply /extend to one of your videos.",
    "extend_smooth": "An extension keeps the frame rate of the video it continues: use "
                     "--smooth on a new video.",
    "extend_limit": "This video was extended {limit} times already, the most allowed. Start "
                    "a new one from a photo.",
    "unknown_flag": "Unknown option {flag}. Options: {options}.",
    "bad_flag_value": "{flag} needs {expected} (got {value}).",
    "caption_too_long": "The caption is {length} characters; the limit is {limit}. Shorten it.",
    "prompt_too_long": "The prompt is {length} characters; the limit is {limit}. Shorten it.",
    "empty_prompt": "Please describe the motion, e.g. “a cat turning its head slowly”.",
    "out_of_range": "{name} must be between {lo} and {hi} (got {value}).",
    "fixed_value": "{name} is always {lo} for this model (got {value}).",
    "bad_preset": "Unknown preset '{name}'. Choose one of: {choices}.",
    "bad_resolution": "Resolution must be one of {choices}.",
    "bad_frame_count": "This model makes {counts} frames, not {frames}.",
    "no_fast_mode": "The speed mode (--fast) is not available for {model}.",
    "no_eta": "{model} samples without an eta: --eta is for I2VGen-XL's DDIM sampler.",
    "eta_fast": "--eta does not go with --fast: the speed mode samples with DPM-Solver++, "
                "which has no eta.",
    "no_recipes": "{model} has no recipes: they are the original app's tested settings for "
                  "I2VGen-XL.",
    "bad_recipe": "Unknown recipe '{name}'. Choose one of: {choices}.",
    "unknown_model": "Unknown model “{name}”. Choose one of: {choices}.",
    "model_not_enabled": "The model “{model}” is not offered here. Choose one of: {choices}.",
    "model_not_here": "No GPU worker offers the model {model} right now.",
    "model_unavailable": "The model {model} could not be loaded on the GPU; the details are in "
                         "the bot's log.",
    "bad_size": "Size {size} is not allowed: each side must be a multiple of {multiple} "
                "between {lo} and {hi}, e.g. 640x384.",
    "size_too_large": "Size {size} is over the 1024p pixel budget (1024x1024). Pick a "
                      "smaller size.",
    # Photos.
    "image_empty": "The file is empty. Send the photo again.",
    "image_unreadable": "This file is not an image I can read; send a JPEG, PNG or WebP photo.",
    "image_damaged": "The photo looks damaged or cut off. Send it again, or send another one.",
    "image_format": "{format} images are not supported; send a JPEG, PNG or WebP photo.",
    "image_animated": "Animated images are not supported; send a JPEG, PNG or WebP photo "
                      "(a single frame).",
    "image_too_small": "The photo is {size}; it needs at least {min_side} pixels on the short "
                       "side. Send a larger photo.",
    "image_too_large": "The photo is too large ({size}): the limit is {max_megapixels} "
                       "megapixels. Send a smaller photo.",
    "photo_too_big": "This file is {size_mib} MiB; the limit is {limit_mib} MiB. Send a "
                     "smaller photo.",
    "photo_over_limit": "This file is larger than the limit of {limit_mib} MiB. Send a smaller "
                        "photo.",
    "not_an_image": "“{name}” is not an image. Attach a JPEG, PNG or WebP photo.",
    # Replies to commands.
    "downloading": "Got it, checking the photo…",
    "preset_set": "Your default preset is now {preset}.",
    "preset_current": "Your default preset: {preset}. Change it with /preset NAME.",
    "presets_head": "Presets (credits):",
    "preset_line": "• {name}: {resolution}, {frames} frames @ {fps} fps, {steps} steps, "
                   "guidance {guidance} · {cost} · {description}",
    "presets_model_default": "{title} (the default; --model {name}):",
    "presets_model": "{title} (--model {name}):",
    "preset_about_i2vgen-xl_preview": "quick check that the motion works",
    "preset_about_i2vgen-xl_standard": "balanced, the default",
    "preset_about_i2vgen-xl_high": "more detail, slower",
    "preset_about_i2vgen-xl_max": "best quality, needs a large GPU",
    "preset_about_wan_preview": "2 s, quick check that the motion works",
    "preset_about_wan_standard": "3.4 s, balanced, the default",
    "preset_about_wan_high": "5 s at 720p, more detail, slower",
    "preset_about_wan_max": "5 s at 720p with the model's recommended steps",
    "recipes_head": "Recipes (--recipe NAME), the original app's tested scenes; the size "
                    "follows a photo of another shape:",
    "recipe_line": "• {name}: {width}x{height}, {frames} frames @ {fps} fps, {steps} steps, "
                   "guidance {guidance} · {cost} · {description}",
    "recipe_about_walking": "a person walking",
    "recipe_about_waves": "waves on a shore, landscapes",
    "recipe_about_turning": "a cat turning its head, rotating objects",
    "preset_about_turbo_preview": "2 s in 3 steps, quick check that the motion works",
    "preset_about_turbo_standard": "5 s at 480p in 3 steps, the default",
    "preset_about_turbo_high": "3.4 s at 720p in 3 steps",
    "preset_about_turbo_max": "5 s at 720p in 3 steps, FastWan's own setting",
    "quota": "Credits left today: {left} of {allowance} (used {spent}, extra {granted}). "
             "Resets in about {hours} h. Standard costs 1 credit.",
    "quota_unlimited": "You have no credit limit (admin).",
    "quota_bought": "Bought credits: {bought} (they do not reset; spent after today's).",
    "queue_empty": "The queue is empty: a new video starts right away.",
    "queue_line": "{count} videos in line{paused}. {mine}",
    "queue_paused": " (paused)",
    "queue_mine": "Yours: {jobs}.",
    "queue_none_mine": "None of them is yours.",
    "queue_running": "running",
    "history_empty": "You have no videos yet.",
    "history_head": "Your recent videos:",
    "history_line": "{job} · {status} · {preset} · seed {seed} · {prompt}",
    "status_queued": "queued",
    "status_running": "running",
    "status_done": "done",
    "status_delivered": "done",
    "status_failed": "failed",
    "status_cancelled": "cancelled",
    "button_reroll": "🎲 Re-roll",
    "button_better": "✨ Better quality",
    "button_cancel": "✖ Cancel",
    "button_extend": "⏩ Extend",
    "help": HELP,
    "help_model": "; {name}: --res {resolutions}, --frames {frames}",
    "album_limit": "Only the first {limit} photos of an album are animated.",
    "album_none": "None of the files in this album is a photo I can use.",
    "late_result": "{mention} your video is ready (job {job}).",
    # Telegram only.
    "tg_welcome": "Hi! Send me a photo with a caption that describes the motion and I will "
                  "animate it into a short video.",
    "tg_group_hint": "In groups, start the caption with /animate, or reply /animate PROMPT "
                     "to a photo.",
    "tg_cmd_animate": "animate a photo (caption, or reply to a photo)",
    "tg_cmd_help": "how to write a prompt, options, presets",
    "tg_cmd_presets": "the quality presets and their cost",
    "tg_cmd_preset": "set your default preset: /preset NAME",
    "tg_cmd_quota": "your credits for today",
    "tg_cmd_queue": "the queue and your place in it",
    "tg_cmd_cancel": "cancel your video: /cancel [job]",
    "tg_cmd_history": "your recent videos and their seeds",
    "tg_cmd_extend": "continue a video: /extend JOB [new prompt]",
    "tg_cmd_buy": "buy more credits with Telegram Stars",
    "tg_cmd_paysupport": "help with a payment",
    "tg_cmd_terms": "the terms of buying credits",
    "tg_buy_hint": "More credits: /buy",
    # Buying credits (Telegram Stars).
    "buy_head": "Credits for Telegram Stars. Bought credits do not reset: a video spends "
                "today's credits first, then bought ones.",
    "buy_off": "Credits are not sold here.",
    "buy_button": "{credits} credits · {stars} ⭐",
    "invoice_title": "{credits} credits",
    "invoice_description": "{credits} video credits for {bot}. They do not reset daily: they "
                           "are spent after your daily credits.",
    "invoice_label": "{credits} credits",
    "pack_gone": "This pack is no longer offered; /buy shows the current ones.",
    "pack_price_changed": "The price of this pack has changed; /buy shows the current one.",
    "checkout_busy": "The bot is busy right now; please try again in a minute.",
    "purchase_receipt": "⭐ Thank you! {credits} credits added (payment {charge}). Bought "
                        "credits: {bought}; today's: {left}.",
    "paysupport_default": "Questions about a payment? Write to the operator of this bot and "
                          "quote the payment id from your receipt. Credits you have not "
                          "spent can be refunded.",
    "terms_default": "Credits pay for videos made by this bot. Bought credits do not reset "
                     "or expire; a video that fails or is cancelled gives its credits back. "
                     "Unspent bought credits are refunded on request (/paysupport). The "
                     "service comes as is, without guarantees of speed or results.",
    # Discord only.
    "dc_no_image_in_message": "That message has no image attachment to animate.",
    "dc_dms_off": "This bot works in servers only; use /animate in a channel.",
    "dc_modal_title": "Animate image",
    "dc_modal_prompt": "Describe the motion",
    "dc_modal_placeholder": "a cat turning its head slowly --preset preview",
    "dc_help": "Use /animate with an image and a prompt, or right-click a message with an "
               "image → Apps → Animate image. The options of /animate (or --flags typed into "
               "the prompt) override the preset.",
    # Admins.
    "admin_only": "This command is for admins.",
    "admin_help": "Admin commands:\n{verbs}\nUSER is an id, @username, or omitted when "
                  "replying to the person's message.",
    "admin_usage": "Usage: /admin {usage}",
    "admin_verb_quota": "quota USER: credits and recent jobs",
    "admin_verb_allowance": "allowance USER CREDITS: set the daily allowance ('default' to "
                            "clear)",
    "admin_verb_grant": "grant USER CREDITS: add credits for today",
    "admin_verb_reset": "reset USER: reset today's usage",
    "admin_verb_ban": "ban USER: ban and cancel their jobs",
    "admin_verb_unban": "unban USER: lift a ban",
    "admin_verb_role": "role USER trusted|user (admins are set in I2V_ADMINS)",
    "admin_verb_allow": "allow USER|chat:ID: add to the allow-list",
    "admin_verb_disallow": "disallow USER|chat:ID: remove from the allow-list",
    "admin_verb_pause": "pause: stop starting new jobs",
    "admin_verb_resume": "resume: start jobs again",
    "admin_verb_cancel": "cancel JOB: cancel anyone's job",
    "admin_verb_refund": "refund CHARGE_ID [force]: give a Telegram Stars payment back and "
                         "take its credits back",
    "admin_verb_stats": "stats: today's jobs, GPU time, failures, queue, top users",
    "admin_verb_moderation": "moderation [USER] [lift]: recent refusals (a person's), or "
                             "lift a person's pause for today",
    "unknown_user": "No user {user} has used this bot yet.",
    "need_user": "Name the user: an id, @username, or reply to their message.",
    "bad_credits": "'{value}' is not a number of credits (0-100000).",
    "bad_role": "Role must be trusted or user; admins are the people listed in I2V_ADMINS.",
    "self_ban": "You cannot ban yourself.",
    "no_such_payment": "No payment {charge} was found (its id is in the buyer's receipt).",
    "already_refunded": "Payment {charge} was refunded already.",
    "refund_spent": "Payment {charge} bought {credits} credits and {spent} of them are spent "
                    "({left} left): nothing was refunded. `/admin refund {charge} force` gives "
                    "the Stars back anyway and takes the {left} left.",
    "refund_failed": "Telegram did not refund payment {charge}: {reason}. No credits were "
                     "taken.",
    "refund_unavailable": "{platform} is not connected to this bot process, so its payments "
                          "cannot be refunded from here.",
    "admin_refunded": "Payment {charge} of {user}: {stars} Stars given back, {credits} "
                      "credits taken back.",
    "admin_quota": "{user}: role {role}{banned}, {left} of {allowance} credits left (spent "
                   "{spent}, granted {granted}), bought credits {bought}",
    "admin_banned_mark": " (banned)",
    "admin_job_line": "{job} {status} {preset} seed {seed} {prompt}",
    "admin_payment_line": "payment {charge}: {stars} Stars for {credits} credits{refunded}",
    "admin_refunded_mark": " (refunded)",
    "admin_allowance_set": "{user}: daily allowance {amount}.",
    "admin_allowance_default": "{user}: daily allowance back to the default.",
    "admin_granted": "{user}: {amount} credits added for today.",
    "admin_reset": "{user}: today's usage reset.",
    "admin_banned": "{user} is banned ({count} of their jobs cancelled).",
    "admin_unbanned": "{user} is no longer banned.",
    "admin_role_set": "{user} is now {role}.",
    "admin_allowed": "{who} added to the allow-list.",
    "admin_disallowed": "{who} removed from the allow-list.",
    "admin_paused": "Queue paused: running jobs finish, new ones wait.",
    "admin_resumed": "Queue resumed.",
    "admin_cancelled": "Job {job}: {status}.",
    "admin_stats": "Today: {counts}\nGPU time: {gpu_minutes} min; failures: {failures}\n"
                   "Queue: {active} active{paused}\nTop users: {top}\nWorkers: {workers}"
                   "{stars}\nModeration: {moderation}\nAs of {now}",
    "admin_stats_stars": "\nStars: {taken} taken in {payments} payments, {refunded} given "
                         "back in {refunds} refunds",
    "admin_stats_moderation": "{refused} refused today ({photos} photos, {videos} videos); "
                              "people paused: {paused}",
    "admin_stats_moderation_off": "off",
    "admin_moderation_header": "Moderation: {mode}, refusing at {thresholds}; {pause}.",
    "admin_moderation_pause": "{limit} refusals in a day pause a person until the reset",
    "admin_moderation_no_pause": "nobody is paused for refusals",
    "admin_moderation_line": "{when} {user} {check} {label} {score}{job} sha256 {sha}{kept}"
                             "{lifted}",
    "admin_moderation_job": " job {job}",
    "admin_moderation_kept": " kept at {path}",
    "admin_moderation_lifted_mark": " (lifted)",
    "admin_moderation_none": "No refusals.",
    "admin_moderation_lifted": "{user} may send photos again today ({count} refusals set "
                               "aside).",
    "moderation_check_photo": "photo",
    "moderation_check_video": "video",
    "moderation_alert": "Moderation: {user} was refused {count} times today and is paused "
                        "until the daily reset. /admin moderation {who} lists the refusals; "
                        "/admin moderation {who} lift ends the pause.",
    "admin_worker": "{name} ({gpu}, {state}, {done} done, {failed} failed, models {models})",
    "admin_worker_busy": "busy",
    "admin_worker_idle": "idle",
    "admin_stats_none": "none",
    "admin_workers_unreachable": "unreachable since {since} (Redis does not answer)",
    # The web page.
    "web_title": "i2v-bot: photo to video",
    "web_intro": "Upload a photo, describe the motion, and get a short video made by "
                 "I2VGen-XL on this server.",
    "web_switch_language": "中文",
    "web_photo_hint": "Drop a photo here, paste one (Ctrl+V), or click to choose. JPEG, PNG "
                      "or WebP, at least 128 px on the short side, up to {limit_mib} MiB.",
    "web_prompt": "Prompt: describe the motion",
    "web_prompt_placeholder": "a cat turning its head slowly to the right in soft daylight",
    "web_negative": "Negative prompt: what to avoid",
    "web_negative_placeholder": "blurry, distorted, static",
    "web_preset": "Preset",
    "web_model": "Model",
    "web_preset_option": "{name} · {cost} · {description}",
    "web_recipe": "Recipe: a tested scene",
    "web_recipe_none": "none: the preset's values",
    "web_recipe_option": "{name} · {width}x{height} · {cost} · {description}",
    "web_focus": "Focus: keep the subject sharp, blur the background",
    "web_eta": "Eta, the sampler's noise ({lo}-{hi})",
    "web_eta_default": "empty: 0",
    "web_advanced": "Advanced parameters",
    "web_resolution": "Resolution",
    "web_frames": "Frames ({lo}-{hi})",
    "web_fps": "Frames per second ({lo}-{hi})",
    "web_steps": "Inference steps ({lo}-{hi})",
    "web_guidance": "Guidance scale ({lo}-{hi})",
    "web_seed": "Seed",
    "web_seed_random": "empty: random",
    "web_generate": "🚀 Generate video",
    "web_uploading": "Uploading…",
    "web_tips_title": "Prompt tips",
    "web_tips": "Subject + action + direction/speed + ambience: “A cat turning its head "
                "slowly to the right in soft daylight”.\n"
                "Use present progressive verbs (“is turning”, “waving”, not “turns”): the "
                "motion comes out smoother; a hint under the prompt says when. At most about "
                "three actions.\n"
                "Any language works: I2VGen-XL reads English only, so other languages are "
                "translated first and the result shows what it read; Wan reads them as "
                "written.\n"
                "Focus keeps the subject sharp and blurs the background, so the motion "
                "happens on the subject.\n"
                "A recipe sets the tested size, length, steps and guidance of a scene: a "
                "person walking, waves, a turning head.\n"
                "One clear subject works best (a portrait, a pet, a landscape); screenshots "
                "and posters do not.\n"
                "Start with the preview preset to check that the motion happens, then "
                "re-roll or ask for better quality.\n"
                "Guidance 9 is the sweet spot, 11 if nothing moves; above 10 the motion "
                "stiffens. If the end of the clip drifts, use fewer frames (16 instead of "
                "24).\n"
                "Eta (I2VGen-XL): the sampler's noise per step; 0, its default, adds none. "
                "The original app found 0.2-0.4 the best balance; more makes frames less "
                "consistent.",
    "web_output": "Video",
    "web_output_empty": "Your video appears here: its place in line and its progress while "
                        "it waits and runs, then the player.",
    "web_download": "⬇ Download MP4",
    "web_history": "Your recent videos",
    "web_you_are": "This browser is {user}{admin}. Its videos and credits are its own.",
    "web_admin_mark": " (admin)",
    "web_need_photo": "Choose a photo first: drop it on the box, paste it, or click the box.",
    "web_need_prompt": "Describe the motion in the prompt, e.g. “a woman smiling and waving "
                       "slowly”.",
    "web_need_session": "Your session has ended: reload the page.",
    "web_other_site": "This request did not come from this page and was refused.",
    "web_network_error": "The server could not be reached. Is `i2vbot serve` still running?",
    "web_reconnecting": "Connection to the server lost; reconnecting…",
    "web_video_gone": "This video is no longer on the server.",
    "web_login_title": "This page needs a password",
    "web_password": "Password",
    "web_login": "Enter",
    "web_wrong_password": "Wrong password.",
    "web_too_many_guesses": "Too many wrong passwords from your address: try again in "
                            "{seconds} s.",
    "web_too_many_sessions": "Too many new browser sessions from your address today: go on in "
                             "the browser you used before, or try again in {minutes} min.",
    "web_too_many_submits": "Too many videos sent from your address within a minute: wait "
                            "{seconds} s, then send it again.",
    "web_local_only": "This page has no password, so it serves only this machine, and this "
                      "request came from elsewhere (another host name, or through a proxy). "
                      "The operator can set I2V_WEB_PASSWORD to open it to others.",
    "web_not_a_form": "Send the photo as the page's form does (multipart/form-data).",
    "web_form_too_large": "The form is larger than {limit_mib} MiB. Send one photo of at most "
                          "{photo_mib} MiB with the form's fields.",
    "web_too_many_fields": "The form has more than {limit} fields. Send the page's form as it "
                           "is.",
    "web_field_too_long": "The field “{name}” is longer than {limit} bytes.",
    "web_form_unreadable": "The form could not be read. Reload the page and send it again.",
    "web_upload_stalled": "The upload stalled for {seconds} s and was stopped. Send it again.",
    "web_body_too_large": "This request is larger than {limit_kib} KiB.",
    "web_sign_out": "Sign out",
}
