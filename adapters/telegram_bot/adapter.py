"""The Telegram adapter: wires the handlers and the notifier to one PTB Application and runs
it with the library's manual lifecycle, so `i2vbot serve` can share its event loop. It is
also the core's `Refunder`: Stars go back through refundStarPayment."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from urllib.parse import urlparse

from telegram import BotCommandScopeDefault, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import Application

from adapters.startup import StartError
from adapters.telegram_bot.builder import build_application
from adapters.telegram_bot.buttons import Buttons
from adapters.telegram_bot.commands import Commands, command_menu
from adapters.telegram_bot.config import TelegramConfig
from adapters.telegram_bot.deps import Deps
from adapters.telegram_bot.errors import on_error
from adapters.telegram_bot.intake import Intake
from adapters.telegram_bot.limits import Limits
from adapters.telegram_bot.notifier import TelegramNotifier
from adapters.telegram_bot.payment_queue import PaymentFirstQueue
from adapters.telegram_bot.people import PLATFORM
from adapters.telegram_bot.shop import Shop
from adapters.telegram_bot.status import GROUP_INTERVAL, PRIVATE_INTERVAL, StatusMessages
from bot.models import JobEvent
from bot.payments import RefundFailed
from bot.ports import AdminPort, CorePort

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10.0  # seconds a getUpdates long poll waits on the server


class TelegramAdapter:
    platform = PLATFORM

    def __init__(self, config: TelegramConfig, core: CorePort, admin: AdminPort) -> None:
        self.config = config
        self.core = core
        self.limits = Limits.of(config)
        self.notifier = TelegramNotifier(self.limits, core)
        self.deps = Deps(core, admin, self.limits, self.notifier, config.max_album)
        self.intake = Intake(self.deps)
        self.application: Application | None = None
        # Tunable by tests: how often status edits may happen and how long a poll waits.
        self.edit_intervals = (PRIVATE_INTERVAL, GROUP_INTERVAL)
        self.poll_timeout = POLL_TIMEOUT

    async def notify(self, event: JobEvent) -> None:
        await self.notifier.notify(event)

    async def refund(self, platform_id: str, charge_id: str) -> None:
        """Give a Stars payment back to the Telegram user who made it."""
        application = self.application
        if application is None or not application.running:
            raise RefundFailed("the Telegram bot is not running")
        try:
            await application.bot.refund_star_payment(int(platform_id), charge_id)
        except BadRequest as exc:
            # PTB capitalises Telegram's words: "Charge_already_refunded".
            if "charge_already_refunded" in exc.message.lower():  # an earlier try got through
                log.info("payment %s: Telegram had refunded it already", charge_id)
                return
            raise RefundFailed(exc.message) from exc
        except TelegramError as exc:
            raise RefundFailed(str(exc)) from exc

    async def tell(self, platform_id: str, message: str) -> None:
        """Write to one person in their private chat with the bot (whose id is theirs);
        Telegram refuses it (Forbidden) until they have started the bot once."""
        if self.application is None:
            raise RuntimeError("Telegram is not connected")
        await self.application.bot.send_message(chat_id=int(platform_id), text=message)

    async def start(self) -> None:
        """Connect and start receiving updates; a StartError says what to fix."""
        try:
            await self._start()
        except BaseException:
            with contextlib.suppress(Exception):  # what did start must not linger
                await self.stop()
            raise

    async def _start(self) -> None:
        try:
            await self._connect()
        except InvalidToken as exc:
            raise StartError("Telegram refused the bot token: check TELEGRAM_BOT_TOKEN (a "
                             "token from @BotFather looks like 123456:ABC-...).") from exc
        except (NetworkError, TimedOut) as exc:
            server = self.config.api_base_url or "api.telegram.org"
            raise StartError(f"Telegram could not be reached at {server}: check the network"
                             + (", and TELEGRAM_API_BASE_URL" if self.config.api_base_url
                                else "") + ".") from exc
        except OSError as exc:  # the webhook's port
            raise StartError(f"Telegram webhook: cannot listen on "
                             f"{self.config.webhook_listen}:{self.config.webhook_port} "
                             f"({exc.strerror}): check TELEGRAM_WEBHOOK_PORT.") from exc

    async def _connect(self) -> None:
        queue = PaymentFirstQueue(self.core)
        application = self.application = build_application(self.config, queue)
        Shop(self.deps, queue, self.config.pay_support, self.config.terms).register(application)
        Commands(self.deps).register(application)
        self.intake.register(application)
        Buttons(self.deps).register(application)
        application.add_error_handler(on_error)
        await application.initialize()
        bot = application.bot
        self.notifier.attach(bot, StatusMessages(bot, *self.edit_intervals))
        await self._set_commands()
        await application.start()
        assert application.updater is not None
        url = self.config.webhook_url
        if url:
            secret = self.config.webhook_secret
            await application.updater.start_webhook(
                listen=self.config.webhook_listen, port=self.config.webhook_port,
                url_path=urlparse(url).path.lstrip("/"), webhook_url=url,
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=Update.ALL_TYPES)
            log.info("telegram: @%s receiving updates by webhook at %s", bot.username, url)
        else:
            await application.updater.start_polling(timeout=timedelta(seconds=self.poll_timeout),
                                                    allowed_updates=Update.ALL_TYPES)
            log.info("telegram: @%s polling for updates", bot.username)

    async def _set_commands(self) -> None:
        assert self.application is not None
        bot = self.application.bot
        try:
            selling = bool(self.core.packs)
            await bot.set_my_commands(command_menu("en", selling), scope=BotCommandScopeDefault())
            await bot.set_my_commands(command_menu("zh", selling), scope=BotCommandScopeDefault(),
                                      language_code="zh")
        except TelegramError as exc:  # the menu is a convenience; the bot works without it
            log.warning("telegram: setMyCommands failed: %s", exc)

    async def stop(self) -> None:
        application = self.application
        await self.intake.close()
        if application is not None and application.updater is not None \
                and application.updater.running:
            await application.updater.stop()  # no new updates from here on
        # What is still queued for the chats goes out (briefly) while the bot can send;
        # after `shutdown` it could not, and every pending video would wait for a restart.
        await self.notifier.close()
        if application is not None:
            if application.running:
                await application.stop()
            await application.shutdown()
