"""Photos in: a captioned photo or image file in a private chat, `/animate` in groups (as a
caption, or as a reply to a photo), and albums as one job per photo up to a limit."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from adapters.telegram_bot.albums import Albums
from adapters.telegram_bot.deps import Deps, chat_ref
from adapters.telegram_bot.errors import answers_user_errors
from adapters.telegram_bot.followups import follow_up
from adapters.telegram_bot.keyboards import job_of
from adapters.telegram_bot.people import lang_of, person_of
from bot.errors import UserError
from bot.models import ChatRef, Job, JobRequest
from bot.photos import check_upload, is_upload_ok
from bot.texts import error_text, text
from bot.views import advice, mib

log = logging.getLogger(__name__)

_ANIMATE = re.compile(r"^/animate(?:@(\w+))?(?:\s|$)", re.IGNORECASE)


def addressed(caption: str | None, bot_username: str | None) -> bool:
    """Whether a group caption asks this bot: `/animate` or `/animate@thisbot`."""
    match = _ANIMATE.match(caption or "")
    if match is None:
        return False
    return match.group(1) is None or match.group(1).lower() == (bot_username or "").lower()


def is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


class Intake:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.albums = Albums(self._album)

    def register(self, application: Application) -> None:
        new = filters.UpdateType.MESSAGE  # an edited caption must not start another job
        application.add_handler(CommandHandler("animate", self.on_animate, filters=new))
        application.add_handler(MessageHandler(new & (filters.PHOTO | filters.Document.ALL),
                                               self.on_media))
        application.add_handler(MessageHandler(
            new & filters.ChatType.PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
            self.on_other))

    async def close(self) -> None:
        await self.albums.close()

    # Handlers

    @answers_user_errors
    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.from_user is None:
            return
        if message.media_group_id:
            self.albums.add(message)
            return
        if not is_private(message) and not addressed(message.caption, context.bot.username):
            return  # a group photo meant for people, not for the bot
        await self.animate(message, message, message.caption)

    @answers_user_errors
    async def on_animate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.from_user is None:
            return
        source = message.reply_to_message
        if source is None or not (source.photo or source.document):
            raise UserError("need_photo")
        await self.animate(source, message, message.text)

    @answers_user_errors
    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Text replying to one of the bot's videos continues it with that prompt; a sticker,
        a video, other text... in a private chat: say what to send."""
        message = update.effective_message
        if message is None:
            return
        replied = message.reply_to_message
        job_id = job_of(replied.reply_markup.to_dict()) if replied is not None and \
            replied.video is not None and replied.reply_markup is not None else None
        if job_id is None or message.from_user is None or not message.text:
            raise UserError("need_photo")
        person, prompt = person_of(message.from_user), message.text

        def start(chat: ChatRef) -> Awaitable[Job]:
            return self.deps.core.extend(person, job_id, prompt, chat)

        await follow_up(self.deps, message, person, message.from_user.language_code,
                        lang_of(message.from_user), start, "extension")

    # The path from a message to a job

    async def animate(self, source: Message, asker: Message, caption: str | None) -> None:
        """Queue the photo of `source` for the person who wrote `asker`; UserErrors before
        the status message exists are raised, later ones are shown in it."""
        assert asker.from_user is not None
        user = asker.from_user
        lang = lang_of(user)
        self.deps.notifier.gone.discard(asker.chat_id)
        file_id = self.media_of(source)
        self.deps.core.check_caption(caption)
        status = await asker.reply_text(text("downloading", lang), do_quote=True)
        try:
            data = await self.download(source, file_id)
            chat = chat_ref(self.deps, asker.chat, status.message_id, asker.message_id,
                            user.language_code, asker.message_thread_id
                            if asker.is_topic_message else None)
            job = await self.deps.core.submit(JobRequest(person=person_of(user), chat=chat,
                                                         image=data, caption=caption or ""))
        except UserError as exc:
            log.info("user %s chat %s: refused: %s", user.id, asker.chat_id, exc)
            await _show(status, asker, error_text(exc, lang))
            return
        except Exception:  # the status message must not keep saying "checking the photo"
            log.exception("user %s chat %s: the photo could not be queued", user.id,
                          asker.chat_id)
            await _show(status, asker, text("internal_error", lang))
            return
        log.info("job %s user telegram:%s chat %s: submitted", job.id, user.id, asker.chat_id)
        await self._advise(asker, job, lang)

    @staticmethod
    async def _advise(asker: Message, job: Job, lang: str) -> None:
        """The coach's hint and the guidance warning, once, beside the status message."""
        lines = advice(job.params, lang)
        if not lines:
            return
        try:
            await asker.reply_text("\n".join(lines), do_quote=True)
        except TelegramError as exc:  # a hint is never worth failing the job over
            log.warning("job %s chat %s: advice not sent: %s", job.id, asker.chat_id, exc)

    def media_of(self, message: Message) -> str:
        """The file id of the photo to animate, within the download limit."""
        limit = self.deps.limits.download_bytes
        if message.photo:
            fitting = [p for p in message.photo if (p.file_size or 0) <= limit]
            if not fitting:
                raise _too_big(message.photo[-1].file_size or 0, limit)
            return max(fitting, key=lambda p: p.width * p.height).file_id
        doc = message.document
        if doc is not None:
            check_upload(doc.file_name or "file", doc.mime_type, doc.file_size, limit)
            return doc.file_id
        raise UserError("need_photo")

    async def download(self, message: Message, file_id: str) -> bytes:
        limit = self.deps.limits.download_bytes
        try:
            file = await message.get_bot().get_file(file_id)
        except BadRequest as exc:
            if "too big" in str(exc).lower():
                raise _too_big(limit + 1, limit) from exc
            raise
        if file.file_size and file.file_size > limit:
            raise _too_big(file.file_size, limit)
        return bytes(await file.download_as_bytearray())

    async def _album(self, messages: list[Message]) -> None:
        first = messages[0]
        assert first.from_user is not None
        lang = lang_of(first.from_user)
        caption = next((m.caption for m in messages if m.caption), None)
        if not is_private(first) and not addressed(caption, first.get_bot().username):
            return
        usable = [m for m in messages if _is_image(m)]
        try:
            if not usable:
                await first.reply_text(text("album_none", lang))
                return
            try:
                self.deps.core.check_caption(caption)
            except UserError as exc:
                await first.reply_text(error_text(exc, lang))
                return
            if len(usable) > self.deps.max_album:
                await first.reply_text(text("album_limit", lang, limit=self.deps.max_album))
            for message in usable[: self.deps.max_album]:
                try:
                    await self.animate(message, message, caption)
                except UserError as exc:
                    await message.reply_text(error_text(exc, lang))
        except TelegramError as exc:
            log.warning("chat %s: album of user %s not handled: %s", first.chat_id,
                        first.from_user.id, exc)


async def _show(status: Message, asker: Message, line: str) -> None:
    """Turn the status message into the answer; a fresh reply if it cannot be edited."""
    try:
        await status.edit_text(line)
    except TelegramError:
        try:
            await asker.reply_text(line)
        except TelegramError as exc:
            log.warning("chat %s: answer not shown: %s", asker.chat_id, exc)


def _is_image(message: Message) -> bool:
    doc = message.document
    return bool(message.photo) or (doc is not None
                                   and is_upload_ok(doc.file_name or "file", doc.mime_type))


def _too_big(size: int, limit: int) -> UserError:
    return UserError("photo_too_big", size_mib=mib(size), limit_mib=mib(limit))
