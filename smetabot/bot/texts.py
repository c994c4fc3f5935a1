"""What the bot says, in Russian and in English.

Russian for users whose Telegram language is Russian; English for everyone else.
"""

from __future__ import annotations

RU, EN = "ru", "en"


def lang_of(language_code: str | None) -> str:
    """The bot's language for a Telegram ``language_code``."""
    return RU if (language_code or "").lower().startswith("ru") else EN


TEXTS: dict[str, dict[str, str]] = {
    # buttons
    "btn.connect": {RU: "🔐 Подключить аккаунт", EN: "🔐 Connect account"},
    "btn.new_channel": {RU: "🆕 Новый канал", EN: "🆕 New channel"},
    "btn.render": {RU: "📄 Рендер файлов", EN: "📄 Render files"},
    "btn.channels": {RU: "📢 Мои каналы", EN: "📢 My channels"},
    "btn.cabinet": {RU: "👤 Личный кабинет", EN: "👤 My account"},
    "btn.cancel": {RU: "✖️ Отмена", EN: "✖️ Cancel"},
    "btn.skip": {RU: "Пропустить", EN: "Skip"},
    "btn.edit_watermark": {RU: "✏️ Водяной знак", EN: "✏️ Watermark"},
    "btn.disconnect": {RU: "🔌 Отключить аккаунт", EN: "🔌 Disconnect account"},
    # /start and the menu
    "start.connect": {
        RU: ("Здравствуйте! Я SmetaBot: публикую ваши сметы в закрытых каналах Telegram так, "
             "что клиент может их читать, но не может переслать, сохранить или изменить.\n\n"
             "Чтобы начать, подключите свой аккаунт Telegram: бот будет создавать каналы "
             "для клиентов от вашего имени. Нажмите «🔐 Подключить аккаунт» внизу."),
        EN: ("Hello! I am SmetaBot: I publish your estimates in private Telegram channels so a "
             "client can read them but cannot forward, save or edit them.\n\n"
             "To begin, connect your Telegram account: the bot creates the client channels in "
             "your name. Tap “🔐 Connect account” below."),
    },
    "menu": {
        RU: "Главное меню. Что сделаем?",
        EN: "Main menu. What shall we do?",
    },
    "help": {
        RU: ("SmetaBot публикует сметы и другие документы для клиентов в защищённых каналах:\n"
             "🆕 Новый канал — закрытый канал для проекта клиента и ссылка-приглашение;\n"
             "📄 Рендер файлов — пришлите PDF, Word или Excel: страницы станут картинками с "
             "вашим водяным знаком;\n"
             "📢 Мои каналы — ваши каналы, ссылки и участники;\n"
             "👤 Личный кабинет — тариф, лимиты, водяной знак, отключение аккаунта.\n\n"
             "Команды: /menu — главное меню, /cancel — прервать текущее действие, "
             "/help — эта справка."),
        EN: ("SmetaBot publishes estimates and other documents for clients in protected "
             "channels:\n"
             "🆕 New channel — a private channel for a client project and an invite link;\n"
             "📄 Render files — send a PDF, Word or Excel file: its pages become images with your "
             "watermark;\n"
             "📢 My channels — your channels, links and members;\n"
             "👤 My account — plan, limits, watermark, disconnecting the account.\n\n"
             "Commands: /menu — main menu, /cancel — stop what you are doing, /help — this help."),
    },
    "cancelled": {RU: "Действие отменено.", EN: "Cancelled."},
    "nothing_to_cancel": {RU: "Отменять нечего.", EN: "There is nothing to cancel."},
    "unknown": {
        RU: "Не понимаю это сообщение. Выберите пункт меню или наберите /help.",
        EN: "I don't understand this message. Choose a menu item or type /help.",
    },
    "need_account": {
        RU: "Сначала подключите аккаунт Telegram: кнопка «🔐 Подключить аккаунт» внизу.",
        EN: "First connect your Telegram account: the “🔐 Connect account” button below.",
    },
    "error": {
        RU: "Извините, что-то пошло не так на нашей стороне (код {ref}). Попробуйте ещё раз.",
        EN: "Sorry, something went wrong on our side (reference {ref}). Please try again.",
    },
    # the personal cabinet
    "cabinet": {
        RU: ("👤 Личный кабинет\n\nАккаунт: {account}\nВодяной знак: {watermark}\n"
             "Язык: русский"),
        EN: "👤 My account\n\nAccount: {account}\nWatermark: {watermark}\nLanguage: English",
    },
    "cabinet.no_watermark": {RU: "не задан (будет ваше имя)", EN: "not set (your name is used)"},
    "watermark.ask": {
        RU: ("Пришлите текст водяного знака, например «ООО Ремонт · Иванов И.И.» "
             "(до {limit} символов). /cancel — отмена."),
        EN: ("Send the watermark text, e.g. “Repair Ltd · John Smith” (up to {limit} "
             "characters). /cancel to stop."),
    },
    "watermark.too_long": {
        RU: "Слишком длинно: {length} символов, можно до {limit}. Пришлите текст покороче.",
        EN: "Too long: {length} characters, the limit is {limit}. Send a shorter text.",
    },
    "watermark.need_text": {
        RU: "Нужен текст водяного знака. Пришлите его сообщением или /cancel.",
        EN: "I need the watermark text. Send it as a message, or /cancel.",
    },
    "watermark.saved": {
        RU: "Водяной знак сохранён: «{watermark}».",
        EN: "Watermark saved: “{watermark}”.",
    },
    # the account
    "account.connected": {
        RU: "✅ Аккаунт подключён: {name}.",
        EN: "✅ Account connected: {name}.",
    },
    "account.disconnect_confirm": {
        RU: ("Отключить аккаунт? Бот выйдет из вашего аккаунта Telegram и удалит сеанс. "
             "Созданные каналы останутся, но управлять ими через бота будет нельзя, пока вы "
             "не подключитесь снова."),
        EN: ("Disconnect the account? The bot logs out of your Telegram account and deletes the "
             "session. Your channels stay, but the bot cannot manage them until you connect "
             "again."),
    },
    "account.disconnected": {
        RU: "Аккаунт отключён, сеанс удалён. Чтобы снова работать, подключите аккаунт.",
        EN: "Account disconnected and the session deleted. Connect again to continue.",
    },
    "account.kept": {RU: "Аккаунт остаётся подключённым.", EN: "The account stays connected."},
    "btn.disconnect_yes": {RU: "Да, отключить", EN: "Yes, disconnect"},
    "btn.disconnect_no": {RU: "Нет", EN: "No"},
    # commands registered with Telegram
    "cmd.start": {RU: "Начать работу", EN: "Start"},
    "cmd.menu": {RU: "Главное меню", EN: "Main menu"},
    "cmd.cancel": {RU: "Отменить текущее действие", EN: "Cancel the current action"},
    "cmd.help": {RU: "Справка", EN: "Help"},
}


def t(key: str, lang: str, **params: object) -> str:
    """The text ``key`` in ``lang``, formatted with ``params``."""
    text = TEXTS[key][RU if lang == RU else EN]
    return text.format(**params) if params else text


def button_key(text: str) -> str | None:
    """Which button ``text`` is (in either language), or None."""
    for key, variants in TEXTS.items():
        if key.startswith("btn.") and text in variants.values():
            return key
    return None
