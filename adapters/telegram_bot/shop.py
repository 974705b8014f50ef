"""Selling credits for Telegram Stars: /buy lists the packs with buttons, a press sends the
invoice (currency XTR, no provider token), the pre-checkout query is answered within
Telegram's 10 s, and a successful payment gets a receipt with the new balance. The credit
itself is stored before the update is confirmed to Telegram (payment_queue.py). /paysupport
and /terms answer with the operator's texts, as Telegram's rules for payments ask.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    Update,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from adapters.telegram_bot.deps import Deps
from adapters.telegram_bot.errors import answers_user_errors
from adapters.telegram_bot.payment_queue import PaymentFirstQueue, charge_of
from adapters.telegram_bot.people import lang_of, person_of
from bot.errors import UserError
from bot.payments import CURRENCY, Pack
from bot.quotas import credits
from bot.texts import error_text, text
from bot.views import quota_reply

log = logging.getLogger(__name__)

BUY = "buy:"  # a pack button's callback data: "buy:" + the pack's invoice payload
CHECKOUT_S = 8.0  # Telegram cancels the payment unless pre-checkout is answered within 10 s
COMMANDS = ("buy", "paysupport", "terms")  # in the menu when credits are sold


class Shop:
    def __init__(self, deps: Deps, queue: PaymentFirstQueue, pay_support: str | None,
                 terms: str | None) -> None:
        self.deps = deps
        self.core = deps.core
        self.queue = queue
        self.pay_support = pay_support
        self.terms_text = terms

    def register(self, application: Application) -> None:
        """Before the other routers: their catch-all handlers would take these updates."""
        new = filters.UpdateType.MESSAGE
        for name, callback in (("buy", self.buy), ("paysupport", self.paysupport),
                               ("terms", self.terms)):
            application.add_handler(CommandHandler(name, callback, filters=new))
        application.add_handler(CallbackQueryHandler(self.on_pack, pattern=f"^{BUY}"))
        application.add_handler(PreCheckoutQueryHandler(self.on_checkout))
        application.add_handler(MessageHandler(filters.SUCCESSFUL_PAYMENT, self.on_paid))

    @staticmethod
    def _who(update: Update) -> tuple[Message, str]:
        message = update.effective_message
        assert message is not None
        return message, lang_of(update.effective_user)

    @answers_user_errors
    async def buy(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, lang = self._who(update)
        if not self.core.packs:
            await message.reply_text(text("buy_off", lang))
            return
        assert update.effective_user is not None
        balance = await self.core.balance(person_of(update.effective_user))
        buttons = [[InlineKeyboardButton(
            text("buy_button", lang, credits=credits(pack.credits), stars=pack.stars),
            callback_data=BUY + pack.payload)] for pack in self.core.packs]
        await message.reply_text(text("buy_head", lang) + "\n\n" + quota_reply(balance, lang),
                                 reply_markup=InlineKeyboardMarkup(buttons))

    @answers_user_errors
    async def paysupport(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, lang = self._who(update)
        await message.reply_text(self.pay_support or text("paysupport_default", lang))

    @answers_user_errors
    async def terms(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, lang = self._who(update)
        await message.reply_text(self.terms_text or text("terms_default", lang))

    async def on_pack(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pack's button: its invoice, in the chat of the button."""
        query = update.callback_query
        assert query is not None
        lang = lang_of(query.from_user)
        pack = Pack.from_payload((query.data or "").removeprefix(BUY))
        if pack is None or pack not in self.core.packs:  # a button from an older offer
            await query.answer(text("pack_gone", lang), show_alert=True)
            return
        await query.answer()
        chat_id = query.message.chat.id if query.message else query.from_user.id
        amount = credits(pack.credits)
        await context.bot.send_invoice(
            chat_id, title=text("invoice_title", lang, credits=amount),
            description=text("invoice_description", lang, credits=amount,
                             bot=f"@{context.bot.username}"),
            payload=pack.payload, currency=CURRENCY, provider_token="",
            prices=[LabeledPrice(text("invoice_label", lang, credits=amount), pack.stars)])
        log.info("user %s: invoice for %s credits (%d Stars)", query.from_user.id, amount,
                 pack.stars)

    async def on_checkout(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Telegram's last question before it takes the Stars: is this still for sale, and
        may this person buy it? Answered within its 10 s whatever happens."""
        query = update.pre_checkout_query
        assert query is not None
        lang = lang_of(query.from_user)
        try:
            await asyncio.wait_for(self.core.check_checkout(
                person_of(query.from_user), query.invoice_payload, query.currency,
                query.total_amount), CHECKOUT_S)
        except UserError as exc:
            log.info("user %s: checkout refused: %s", query.from_user.id, exc)
            await query.answer(ok=False, error_message=error_text(exc, lang))
            return
        except TimeoutError:
            log.warning("user %s: checkout not checked within %.0f s", query.from_user.id,
                        CHECKOUT_S)
            await query.answer(ok=False, error_message=text("checkout_busy", lang))
            return
        except Exception:
            await query.answer(ok=False, error_message=text("internal_error", lang))
            raise
        await query.answer(ok=True)

    @answers_user_errors
    async def on_paid(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The receipt: the payment was credited before this update reached the handlers."""
        message, lang = self._who(update)
        payment = message.successful_payment
        assert payment is not None and message.from_user is not None
        purchase = self.queue.credited(payment.telegram_payment_charge_id) or \
            await self.core.purchase(person_of(message.from_user), charge_of(payment))
        await message.reply_text(text(
            "purchase_receipt", lang, credits=credits(purchase.credits),
            charge=purchase.charge_id, bought=credits(purchase.balance.bought),
            left=credits(purchase.balance.left)))
