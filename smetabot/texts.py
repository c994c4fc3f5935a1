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
    "btn.connect_short": {RU: "Подключить", EN: "Connect"},
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
        RU: ("👤 Личный кабинет\n\nАккаунт: {account}\nТариф: {plan}\nКаналы: {channels}\n"
             "Публикации в этом месяце: {publications}\nВодяной знак: {watermark}\n"
             "Язык: русский"),
        EN: ("👤 My account\n\nAccount: {account}\nPlan: {plan}\nChannels: {channels}\n"
             "Publications this month: {publications}\nWatermark: {watermark}\n"
             "Language: English"),
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
    # publishing a document
    "btn.pages_all": {RU: "Все", EN: "All"},
    "btn.pages_none": {RU: "Ни одной", EN: "None"},
    "btn.next": {RU: "Далее ➡️", EN: "Next ➡️"},
    "btn.wm_keep": {RU: "✅ Оставить", EN: "✅ Keep it"},
    "btn.wm_edit": {RU: "✏️ Другой текст", EN: "✏️ Other text"},
    "btn.retry": {RU: "🔁 Повторить", EN: "🔁 Retry"},
    "publish.send_file": {
        RU: ("Пришлите документ файлом: PDF, Word (DOC, DOCX, RTF, ODT) или Excel (XLS, XLSX, "
             "ODS), до {limit} МБ. Я покажу страницы, вы выберете, какие опубликовать."),
        EN: ("Send the document as a file: PDF, Word (DOC, DOCX, RTF, ODT) or Excel (XLS, XLSX, "
             "ODS), up to {limit} MB. I will show the pages and you pick which to publish."),
    },
    "publish.received": {RU: "📥 Получил «{file}». Проверяю файл…",
                         EN: "📥 Got “{file}”. Checking the file…"},
    "publish.checking": {RU: "⏳ Открываю «{file}»…", EN: "⏳ Opening “{file}”…"},
    "publish.render_waiting": {
        RU: "⏳ «{file}» в очереди: сейчас ни один обработчик страниц не запущен. Начну, как "
            "только он появится, — ничего не нужно присылать заново.",
        EN: "⏳ “{file}” is queued: no page renderer is running right now. It starts as soon as "
            "one is up — no need to send anything again."},
    "publish.previewing": {RU: "⏳ Готовлю превью: {done} из {total} страниц…",
                           EN: "⏳ Preparing previews: {done} of {total} pages…"},
    "publish.previews_ready": {RU: "📄 «{file}»: {total} стр.", EN: "📄 “{file}”: {total} pages."},
    "publish.wait_previews": {RU: "Подождите, готовлю превью страниц…",
                              EN: "Please wait, preparing the page previews…"},
    "publish.page_word": {RU: "стр.", EN: "page"},
    "publish.left": {RU: "Осталось {left} из {limit} публикаций в этом месяце.",
                     EN: "{left} of {limit} publications left this month."},
    "publish.title": {RU: "Название для клиента: «{title}».",
                      EN: "The title the client reads: “{title}”."},
    "publish.title_ask": {
        RU: "Как назвать документ для клиента? Пришлите название (до {limit} символов).",
        EN: "What should the client see as the document's title? Send it (up to {limit} "
            "characters).",
    },
    "btn.title_edit": {RU: "📝 Другое название", EN: "📝 Other title"},
    "publish.parked": {
        RU: "Документ «{file}» ждёт публикации: к нему можно вернуться.",
        EN: "The document “{file}” is waiting to be published: you can go back to it.",
    },
    "btn.back_to_document": {RU: "↩️ Вернуться к «{file}»", EN: "↩️ Back to “{file}”"},
    "publish.caption": {RU: "«{title}», стр. {pages} из {total}",
                        EN: "“{title}”, pages {pages} of {total}"},
    "publish.caption_part": {RU: "«{title}», стр. {pages} (часть {part} из {parts})",
                             EN: "“{title}”, pages {pages} (part {part} of {parts})"},
    "publish.pick": {
        RU: ("Какие страницы «{file}» опубликовать? Нажимайте на номера или пришлите диапазон, "
             "например 1,3,5-7.\n\nВыбрано: {chosen} — {count} из {total}."),
        EN: ("Which pages of “{file}” to publish? Tap the numbers or send a range, e.g. "
             "1,3,5-7.\n\nSelected: {chosen} — {count} of {total}."),
    },
    "publish.nothing": {RU: "ничего", EN: "nothing"},
    "publish.pick_something": {RU: "Выберите хотя бы одну страницу.",
                               EN: "Select at least one page."},
    "publish.bad_range": {RU: "Не понял диапазон. Пример: 1,3,5-7.",
                          EN: "I don't understand the range. Example: 1,3,5-7."},
    "publish.use_buttons": {RU: "Выберите вариант кнопкой под сообщением выше или /cancel.",
                            EN: "Choose with the buttons under the message above, or /cancel."},
    "publish.gone": {
        RU: "Этот файл больше недоступен (прошло больше суток или он заменён). Пришлите его снова.",
        EN: "This file is no longer available (over a day old, or replaced). Send it again.",
    },
    "publish.watermark": {
        RU: ("Водяной знак на каждой странице: «{watermark}». К нему добавится короткий код "
             "публикации: по нему видно, из какого канала утекла страница."),
        EN: ("Watermark on every page: “{watermark}”. A short publication code is added to it: "
             "it shows which channel a leaked page came from."),
    },
    "publish.channel": {RU: "В какой канал опубликовать?", EN: "Which channel to publish to?"},
    "publish.no_channels": {
        RU: "У вас ещё нет каналов. Создайте канал для клиента — потом вернёмся к документу.",
        EN: "You have no channels yet. Create a channel for the client, then we return to "
            "the document.",
    },
    "publish.back_to_document": {RU: "Возвращаемся к «{file}».",
                                 EN: "Back to “{file}”."},
    "publish.channel_unavailable": {RU: "Этот канал сейчас недоступен. Выберите другой.",
                                    EN: "This channel is not available now. Choose another."},
    "publish.queued": {RU: "⏳ Публикую в «{channel}»…", EN: "⏳ Publishing to “{channel}”…"},
    "publish.rendering": {RU: "⏳ Готовлю страницы: {done} из {total}…",
                          EN: "⏳ Rendering pages: {done} of {total}…"},
    "publish.sending": {RU: "📤 Отправляю страницы в «{channel}»…",
                        EN: "📤 Posting the pages to “{channel}”…"},
    "publish.done": {
        RU: "✅ Документ опубликован в «{channel}»: {pages} стр., код #{code}.\n{link}",
        EN: "✅ Document published in “{channel}”: {pages} pages, code #{code}.\n{link}",
    },
    "publish.blocked": {
        RU: ("⚠️ Бот не может публиковать в «{channel}»: у него нет прав администратора. Верните "
             "боту права (публикация сообщений) и нажмите «Повторить»."),
        EN: ("⚠️ The bot cannot post in “{channel}”: it is not an admin there. Give the bot its "
             "rights back (post messages) and tap “Retry”."),
    },
    "publish.resumed": {RU: "🔁 Продолжаю публикацию «{file}» после перезапуска сервера.",
                        EN: "🔁 Resuming the publication of “{file}” after a server restart."},
    "publish.waiting": {
        RU: ("⏳ Telegram просит подождать {wait}, прежде чем публиковать дальше. Я продолжу сам, "
             "ничего нажимать не нужно."),
        EN: ("⏳ Telegram asks to wait {wait} before posting more. I will carry on by myself; "
             "there is nothing to press."),
    },
    "publish.interrupted": {
        RU: "⏸ Прервано перезапуском сервера — продолжение ниже.",
        EN: "⏸ Interrupted by a server restart — continued below.",
    },
    "publish.receive_interrupted": {
        RU: ("⚠️ Сервер перезапустился, пока принимал «{file}», и файл не сохранился. "
             "Пришлите его ещё раз."),
        EN: ("⚠️ The server restarted while receiving “{file}”, and the file was not kept. "
             "Please send it again."),
    },
    "publish.resumed_preview": {
        RU: "🔁 Продолжаю подготовку «{file}» после перезапуска сервера.",
        EN: "🔁 Resuming the preparation of “{file}” after a server restart.",
    },
    # channels: 🆕 Новый канал
    "btn.share_link": {RU: "📤 Поделиться ссылкой", EN: "📤 Share the link"},
    "btn.copy_link": {RU: "📋 Скопировать ссылку", EN: "📋 Copy the link"},
    "btn.new_link": {RU: "🔗 Новая ссылка", EN: "🔗 New link"},
    "btn.revoke_link": {RU: "🚫 Отозвать ссылку", EN: "🚫 Revoke a link"},
    "btn.archive": {RU: "🗄 В архив", EN: "🗄 Archive"},
    "btn.archive_yes": {RU: "Да, в архив", EN: "Yes, archive it"},
    "btn.archive_no": {RU: "Нет, оставить", EN: "No, keep it"},
    "btn.to_list": {RU: "⬅️ К списку", EN: "⬅️ Back to the list"},
    "btn.page_prev": {RU: "◀️ Назад", EN: "◀️ Back"},
    "btn.page_next": {RU: "Вперёд ▶️", EN: "Forward ▶️"},
    "newch.ask_title": {
        RU: ("Как назвать канал? Обычно это адрес или название проекта, например «Ремонт на "
             "Ленина, 5». Клиент увидит это название. До 128 символов."),
        EN: ("What shall the channel be called? Usually the address or the project, e.g. "
             "“Renovation, 5 Lenin St”. The client sees this name. Up to 128 characters."),
    },
    "newch.need_title": {RU: "Пришлите название канала текстом или /cancel.",
                         EN: "Send the channel's name as text, or /cancel."},
    "newch.title_too_long": {
        RU: "Слишком длинное название: {length} символов, можно до {limit}. Пришлите покороче.",
        EN: "The name is too long: {length} characters, the limit is {limit}. Send a shorter one.",
    },
    "newch.ask_photo": {
        RU: "Пришлите фото для аватарки канала «{title}» или нажмите «Пропустить».",
        EN: "Send a photo for the avatar of “{title}”, or tap “Skip”.",
    },
    "newch.need_photo": {RU: "Это не фото. Пришлите фото (картинкой) или нажмите «Пропустить».",
                         EN: "That is not a photo. Send a picture, or tap “Skip”."},
    "newch.creating": {RU: "⏳ Создаю канал «{title}»…", EN: "⏳ Creating the channel “{title}”…"},
    "newch.ready": {
        RU: ("✅ Канал «{title}» готов: закрытый, пересылка и сохранение запрещены, бот — "
             "администратор.\n\nСсылка-приглашение для клиента:\n{link}\n\n"
             "Отправьте её клиенту: кнопка «📤 Поделиться ссылкой» ниже."),
        EN: ("✅ The channel “{title}” is ready: private, forwarding and saving are off, the "
             "bot is an admin.\n\nInvite link for the client:\n{link}\n\n"
             "Send it to the client: the “📤 Share the link” button below."),
    },
    "newch.waiting_admin": {
        RU: ("Канал «{title}» создан и защищён от пересылки. Но Telegram пока не разрешает "
             "недавно подключённому аккаунту назначать администраторов, поэтому бот ещё не может "
             "публиковать в канале и выдать ссылку. Я буду пробовать снова каждые {every} "
             "(обычно ограничение снимается в течение суток) и напишу, когда канал будет готов."),
        EN: ("The channel “{title}” is created and protected from forwarding. But Telegram does "
             "not yet let a freshly connected account appoint admins, so the bot cannot post "
             "there or make a link yet. I will try again every {every} (the restriction is "
             "usually lifted within a day) and tell you when the channel is ready."),
    },
    "newch.owner_posts": {
        RU: ("Канал «{title}» создан и защищён от пересылки. Telegram пока не разрешает недавно "
             "подключённому аккаунту назначать администраторов (обычно до суток), поэтому бот "
             "ещё не администратор. Чтобы вам не ждать, до тех пор страницы публикуются от "
             "вашего аккаунта: канал уже можно выбирать при публикации.\n\n"
             "Ссылка-приглашение для клиента:\n{link}\n\n"
             "Я пробую сделать бота администратором каждые {every} и напишу, когда получится."),
        EN: ("The channel “{title}” is created and protected from forwarding. Telegram does not "
             "yet let a freshly connected account appoint admins (usually for up to a day), so "
             "the bot is not an admin yet. So that you need not wait, until then pages are "
             "published from your own account: you can already choose this channel when "
             "publishing.\n\nInvite link for the client:\n{link}\n\n"
             "I try to make the bot an admin every {every} and will tell you when it works."),
    },
    "newch.owner_requests": {
        RU: ("\n\nЗаявки на вступление до тех пор приходят не мне, а вам: одобряйте их в "
             "Telegram, в канале → «Заявки на вступление»."),
        EN: ("\n\nUntil then, join requests come to you rather than to me: approve them in "
             "Telegram, in the channel → “Join requests”."),
    },
    "newch.promoted": {
        RU: ("✅ Бот стал администратором канала «{title}»: дальше страницы публикует он, и о "
             "клиентах, их вступлениях и заявках сообщает тоже он. Ссылка для клиента прежняя:"
             "\n{link}"),
        EN: ("✅ The bot is now an admin of “{title}”: from now on it publishes the pages and "
             "tells you of clients joining and asking to join. The client's link is the same:"
             "\n{link}"),
    },
    "newch.photo_refused": {
        RU: ("🖼 Картинку для «{title}» не удалось поставить аватаром (нужно фото JPEG или PNG "
             "не меньше 160 px). Канал работает и без неё; аватар можно сменить в настройках "
             "канала в Telegram."),
        EN: ("🖼 The picture for “{title}” could not be set as its photo (a JPEG or PNG of at "
             "least 160 px is needed). The channel works without it; the photo can be changed in "
             "the channel's settings in Telegram."),
    },
    "newch.deferred": {
        RU: ("Канал «{title}» создан, но настройку пришлось прервать. {reason}\n"
             "Я закончу её сам и напишу, когда канал будет готов."),
        EN: ("The channel “{title}” is created, but its setup had to stop. {reason}\n"
             "I will finish it myself and tell you when the channel is ready."),
    },
    "newch.our_fault": {RU: "Сбой на нашей стороне (код {ref}).",
                        EN: "Something failed on our side (reference {ref})."},
    "newch.failed": {
        RU: ("❌ Не удалось закончить настройку канала «{title}» после нескольких попыток. Канал "
             "остался в вашем Telegram: удалите его и создайте канал заново через «🆕 Новый "
             "канал»."),
        EN: ("❌ The setup of the channel “{title}” could not be finished after several attempts. "
             "The channel is still in your Telegram: delete it and create the channel again "
             "with “🆕 New channel”."),
    },
    "newch.interrupted": {
        RU: ("⚠️ Создание канала «{title}» прервалось: бот перезапускался. Если в вашем Telegram "
             "появился канал «{title}», удалите его и создайте канал заново через «🆕 Новый "
             "канал»."),
        EN: ("⚠️ Creating the channel “{title}” was interrupted: the bot restarted. If a channel "
             "“{title}” appeared in your Telegram, delete it and create the channel again with "
             "“🆕 New channel”."),
    },
    "share.text": {RU: "Приглашение в канал «{title}»", EN: "Invitation to “{title}”"},
    # plans and limits
    "limit.channels": {
        RU: ("⛔ Достигнут лимит тарифа «{plan}»: каналов {used} из {limit}. Перенесите "
             "ненужный канал в архив («📢 Мои каналы») или расширьте тариф."),
        EN: ("⛔ The limit of the plan “{plan}” is reached: {used} of {limit} channels. Archive a "
             "channel you no longer need (“📢 My channels”) or get a bigger plan."),
    },
    "limit.publications": {
        RU: ("⛔ Достигнут лимит тарифа «{plan}»: публикаций в этом месяце {used} из {limit}. "
             "Новые публикации будут доступны с 1-го числа, или расширьте тариф."),
        EN: ("⛔ The limit of the plan “{plan}” is reached: {used} of {limit} publications this "
             "month. More become available on the 1st, or get a bigger plan."),
    },
    "limit.ask": {RU: "Чтобы расширить тариф, напишите: {contact}.",
                  EN: "To get a bigger plan, write to {contact}."},
    "limit.ask_operator": {RU: "Чтобы расширить тариф, обратитесь к администратору этого бота.",
                           EN: "To get a bigger plan, ask the administrator of this bot."},
    # channels: 📢 Мои каналы
    "mych.empty": {RU: "У вас пока нет каналов. Создайте первый: «🆕 Новый канал».",
                   EN: "You have no channels yet. Create the first: “🆕 New channel”."},
    "mych.list": {RU: "📢 Ваши каналы: {total} (страница {page} из {pages}). Выберите канал:",
                  EN: "📢 Your channels: {total} (page {page} of {pages}). Choose a channel:"},
    "mych.card": {
        RU: ("📢 {title}\n\nСоздан: {created}\nСостояние: {status}\nКлиенты: {members}\n"
             "Публикаций: {publications}\n\nСсылка-приглашение: {link}"),
        EN: ("📢 {title}\n\nCreated: {created}\nState: {status}\nClients: {members}\n"
             "Publications: {publications}\n\nInvite link: {link}"),
    },
    "mych.status.ready": {RU: "готов", EN: "ready"},
    "mych.status.waiting_admin": {
        RU: ("ждёт, когда Telegram разрешит сделать бота администратором; пока страницы "
             "публикуются от вашего аккаунта"),
        EN: ("waiting for Telegram to allow making the bot an admin; meanwhile pages are "
             "published from your account")},
    "mych.status.creating": {RU: "настраивается", EN: "being set up"},
    "mych.no_members": {RU: "пока никого", EN: "nobody yet"},
    "mych.no_link": {RU: "нет действующей — нажмите «🔗 Новая ссылка»",
                     EN: "none working — tap “🔗 New link”"},
    "mych.link_later": {RU: "появится, когда бот станет администратором",
                        EN: "comes when the bot becomes an admin"},
    "mych.new_link": {RU: "🔗 Новая ссылка-приглашение в «{title}»:\n{link}",
                      EN: "🔗 New invite link to “{title}”:\n{link}"},
    "mych.revoke_which": {RU: "Какую ссылку отозвать? По ней больше никто не сможет войти.",
                          EN: "Which link to revoke? Nobody will be able to join through it."},
    "mych.revoked": {RU: "Ссылка отозвана.", EN: "The link is revoked."},
    "mych.archive_confirm": {
        RU: ("Перенести «{title}» в архив? Ссылки перестанут работать, канал освободит место в "
             "тарифе. Сам канал в Telegram останется: клиент сможет читать опубликованное."),
        EN: ("Archive “{title}”? Its links stop working and it frees its place in your plan. "
             "The Telegram channel stays: the client can still read what was published."),
    },
    "mych.archived": {RU: "🗄 Канал «{title}» перенесён в архив.",
                      EN: "🗄 The channel “{title}” is archived."},
    "mych.kept": {RU: "Канал остаётся.", EN: "The channel stays."},
    "mych.gone": {RU: "Этого канала больше нет в списке.", EN: "This channel is no longer listed."},
    "mych.joined": {RU: "👤 Клиент {name} присоединился к «{channel}».",
                    EN: "👤 Client {name} joined “{channel}”."},
    # the personal cabinet: the plan
    "plan.free": {RU: "Бесплатный", EN: "Free"},
    "cabinet.plan_until": {RU: "{plan} до {until}", EN: "{plan} until {until}"},
    "cabinet.plan_forever": {RU: "{plan}, бессрочно", EN: "{plan}, no end date"},
    "cabinet.of": {RU: "{used} из {limit}", EN: "{used} of {limit}"},
    "cabinet.unlimited": {RU: "{used} (без ограничений)", EN: "{used} (no limit)"},
    # admins: plans
    "admin.help": {
        RU: ("Управление тарифами.\n/contractors — подрядчики, их тарифы и расход\n"
             "/plan <id или @username> <тариф> [ГГГГ-ММ-ДД] — назначить тариф (до даты "
             "включительно; без даты — бессрочно)\n\nТарифы:\n{plans}"),
        EN: ("Plan management.\n/contractors — contractors, their plans and usage\n"
             "/plan <id or @username> <plan> [YYYY-MM-DD] — assign a plan (through the date; "
             "without one, no end)\n\nPlans:\n{plans}"),
    },
    "admin.plan_line": {RU: "• {code} — «{title}»: каналов {channels}, публикаций в месяц "
                            "{publications}",
                        EN: "• {code} — “{title}”: {channels} channels, {publications} "
                            "publications a month"},
    "admin.no_limit": {RU: "без ограничений", EN: "no limit"},
    "admin.contractor_line": {
        RU: "• {id} {name}: {plan}; каналов {channels}, публикаций в этом месяце {publications}",
        EN: "• {id} {name}: {plan}; {channels} channels, {publications} publications this month",
    },
    "admin.no_contractors": {RU: "Подрядчиков пока нет.", EN: "No contractors yet."},
    "admin.plan_usage": {RU: "Формат: /plan <id или @username> <тариф> [ГГГГ-ММ-ДД]",
                         EN: "Usage: /plan <id or @username> <plan> [YYYY-MM-DD]"},
    "admin.not_found": {RU: "Подрядчик «{who}» не найден. Список: /contractors",
                        EN: "No contractor “{who}”. The list: /contractors"},
    "admin.bad_date": {RU: "Не понял дату «{date}»: нужна ГГГГ-ММ-ДД, например 2026-12-31.",
                       EN: "I don't understand the date “{date}”: use YYYY-MM-DD, e.g. 2026-12-31."},
    "admin.plan_set": {RU: "✅ {name}: тариф {plan}.", EN: "✅ {name}: plan {plan}."},
    "admin.plan_error": {RU: "Не получилось: {problem}", EN: "That did not work: {problem}"},
    "plan.changed": {RU: "💳 Ваш тариф изменён: {plan}. Подробности — в «👤 Личный кабинет».",
                     EN: "💳 Your plan has changed: {plan}. Details in “👤 My account”."},
    "stale": {RU: "Это уже неактуально.", EN: "This is no longer current."},
    # commands registered with Telegram
    "cmd.start": {RU: "Начать работу", EN: "Start"},
    "cmd.menu": {RU: "Главное меню", EN: "Main menu"},
    "cmd.cancel": {RU: "Отменить текущее действие", EN: "Cancel the current action"},
    "cmd.help": {RU: "Справка", EN: "Help"},
    # the WebApp login (its API answers)
    "login.code_sent": {RU: "Код отправлен в Telegram на другом устройстве или по SMS.",
                  EN: "The code was sent to your Telegram on another device or by SMS."},
    "login.code_invalid": {RU: "Неверный код. Проверьте и введите ещё раз.",
                     EN: "Wrong code. Check it and try again."},
    "login.code_expired": {RU: "Срок действия кода истёк. Запросите новый код.",
                     EN: "The code has expired. Request a new one."},
    "login.password_invalid": {RU: "Неверный облачный пароль. Попробуйте ещё раз.",
                         EN: "Wrong cloud password. Try again."},
    "login.password_needed": {RU: "Включена двухэтапная проверка: введите облачный пароль{hint}.",
                        EN: "Two-step verification is on: enter your cloud password{hint}."},
    "login.phone_invalid": {RU: "Неверный номер телефона. Введите его в международном формате, "
                          "например +7 900 123-45-67.",
                      EN: "Invalid phone number. Use the international format, e.g. "
                          "+7 900 123-45-67."},
    "login.phone_unknown": {RU: "К этому номеру не привязан аккаунт Telegram.",
                      EN: "There is no Telegram account with this number."},
    "login.flood": {RU: "Telegram просит подождать {wait} перед следующей попыткой.",
              EN: "Telegram asks to wait {wait} before the next attempt."},
    "login.too_many": {RU: "Слишком много попыток. Попробуйте через {wait}.",
                 EN: "Too many attempts. Try again in {wait}."},
    "login.no_attempt": {RU: "Вход не начат или устарел. Начните заново.",
                   EN: "No login in progress, or it has expired. Start again."},
    "login.qr_expired": {RU: "QR-код устарел, показываем новый.",
                   EN: "The QR code has expired; showing a new one."},
    "login.failed": {RU: "Не удалось подключить аккаунт. Попробуйте ещё раз.",
               EN: "Could not connect the account. Please try again."},
    "login.authorized": {RU: "Аккаунт подключён. Можно вернуться в чат с ботом.",
                   EN: "Account connected. You can go back to the chat with the bot."},
    "login.code_app": {
        RU: "Код отправлен в Telegram на другом вашем устройстве: чат «Telegram».",
        EN: "The code was sent to your Telegram on another device: the “Telegram” chat."},
    "login.code_sms": {RU: "Код отправлен по SMS на номер {phone}.",
                       EN: "The code was sent by SMS to {phone}."},
    "login.code_call": {RU: "Вам позвонят на номер {phone} и продиктуют код.",
                        EN: "You will get a call on {phone}; a voice will tell you the code."},
    "login.code_flash_call": {
        RU: "На номер {phone} поступит звонок, который сразу прервётся: введите номер, "
            "с которого звонили.",
        EN: "{phone} will get a call that ends at once: enter the number that called."},
    "login.code_missed_call": {
        RU: "На номер {phone} поступит звонок с номера, начинающегося на {prefix}. Отвечать не "
            "нужно: введите последние {length} цифр этого номера.",
        EN: "{phone} will get a call from a number starting with {prefix}. Do not answer: "
            "enter the last {length} digits of that number."},
    "login.code_email": {RU: "Код отправлен на электронную почту {email}.",
                         EN: "The code was sent to your e-mail {email}."},
    "login.code_fragment": {
        RU: "Код отправлен на анонимный номер {phone} через Fragment: откройте {url}.",
        EN: "The code was sent to the anonymous number {phone} through Fragment: open {url}."},
    "login.code_sms_word": {
        RU: "По SMS на номер {phone} пришло слово{beginning}. Введите это слово.",
        EN: "An SMS with a word{beginning} was sent to {phone}. Enter that word."},
    "login.code_sms_phrase": {
        RU: "По SMS на номер {phone} пришла фраза{beginning}. Введите её целиком.",
        EN: "An SMS with a phrase{beginning} was sent to {phone}. Enter the whole phrase."},
    "login.code_beginning": {RU: " (начинается с «{beginning}»)",
                             EN: " (it begins with “{beginning}”)"},
    "login.code_setup_email": {
        RU: "Telegram просит сначала привязать к аккаунту электронную почту (в приложении "
            "Telegram: Настройки → Конфиденциальность). Или войдите по QR-коду.",
        EN: "Telegram asks you to add an e-mail to your account first (in the Telegram app: "
            "Settings → Privacy and Security). Or log in with the QR code."},
    "login.code_unavailable": {
        RU: "Telegram сейчас не может прислать код на этот номер. Войдите по QR-коду: откройте "
            "Telegram на телефоне → Настройки → Устройства → «Подключить устройство».",
        EN: "Telegram cannot send a code to this number now. Log in with the QR code: on your "
            "phone open Telegram → Settings → Devices → “Link Desktop Device”."},
    "login.other_account": {
        RU: "Вошли в другой аккаунт Telegram — не в тот, из которого открыта эта страница. "
            "Подключить можно только свой аккаунт; вход отменён, новый сеанс завершён. "
            "Отсканируйте код или введите номер со своего аккаунта.",
        EN: "Another Telegram account logged in, not the one this page was opened from. Only "
            "your own account can be connected; the login was cancelled and its new session "
            "ended. Scan the code or enter the number of your own account."},
    "login.authorized_write_bot": {
        RU: "Аккаунт подключён. Вернитесь в чат с ботом и отправьте /start — появится меню.",
        EN: "Account connected. Go back to the chat with the bot and send /start for the menu."},
    # the WebApp login page (sent to the page as JSON; ``page.qr_how`` is one line per step)
    "page.title": {RU: "Подключение аккаунта Telegram", EN: "Connect your Telegram account"},
    "page.lead": {
        RU: ("Бот будет создавать каналы для ваших клиентов от вашего имени. Сеанс хранится на "
             "сервере в зашифрованном виде; отключить его можно в любой момент."),
        EN: ("The bot creates channels for your clients in your name. The session is kept "
             "encrypted on the server; you can disconnect it at any time."),
    },
    "page.qr_how": {
        RU: ("Откройте Telegram на телефоне\nНастройки → Устройства → Подключить устройство\n"
             "Наведите камеру на этот QR-код"),
        EN: ("Open Telegram on your phone\nSettings → Devices → Link Desktop Device\n"
             "Point the camera at this QR code"),
    },
    "page.to_phone": {RU: "Войти по номеру телефона", EN: "Log in with a phone number"},
    "page.to_qr": {RU: "Показать QR-код", EN: "Show the QR code"},
    "page.new_qr": {RU: "Показать новый QR-код", EN: "Show a new QR code"},
    "page.phone_label": {RU: "Номер телефона", EN: "Phone number"},
    "page.get_code": {RU: "Получить код", EN: "Get the code"},
    "page.code_label": {RU: "Код из Telegram", EN: "Code from Telegram"},
    "page.code_hint": {
        RU: ("Код пришёл в Telegram на другом вашем устройстве (или по SMS). Введите его здесь и "
             "никому не пересылайте — иначе Telegram отменит код."),
        EN: ("The code was sent to your Telegram on another device (or by SMS). Type it here and "
             "never forward it — Telegram cancels a forwarded code."),
    },
    "page.sign_in": {RU: "Войти", EN: "Log in"},
    "page.other_number": {RU: "Другой номер", EN: "Another number"},
    "page.password_label": {RU: "Облачный пароль", EN: "Cloud password"},
    "page.confirm": {RU: "Подтвердить", EN: "Confirm"},
    "page.wait_qr": {RU: "Ждём подтверждения с телефона…",
                     EN: "Waiting for the approval on your phone…"},
    "page.expires": {RU: "QR-код обновится через {s} с", EN: "The QR code refreshes in {s} s"},
    "page.sending": {RU: "Отправляем код…", EN: "Sending the code…"},
    "page.checking": {RU: "Проверяем…", EN: "Checking…"},
    "page.network": {RU: "Нет связи с сервером. Проверьте интернет и попробуйте ещё раз.",
                     EN: "No connection to the server. Check your internet and try again."},
    "page.session": {
        RU: "Сессия страницы устарела. Закройте окно и откройте его снова из чата с ботом.",
        EN: "This page's session has expired. Close it and open it again from the chat with the bot.",
    },
    "page.no_init": {
        RU: ("Эта страница не получила от Telegram данных о вас. Закройте её и откройте кнопкой "
             "«🔐 Подключить аккаунт» под сообщением бота (или кнопкой меню слева от поля ввода)."),
        EN: ("This page did not receive your details from Telegram. Close it and open it with "
             "the “🔐 Connect account” button under the bot's message (or the menu button next "
             "to the message field)."),
    },
    # analytics (smetabot/bot/analytics.py)
    "analytics.card.title": {RU: "📊 Публикации:", EN: "📊 Publications:"},
    "analytics.card.publication": {RU: "📄 {file} · #{code} · {date}, {pages} стр.",
                                   EN: "📄 {file} · #{code} · {date}, {pages} p."},
    "analytics.card.not_read": {RU: "   просмотры ещё не прочитаны",
                                EN: "   views not read yet"},
    "analytics.card.none_opened": {RU: "   клиент ещё не открывал (0 из {total})",
                                   EN: "   the client has not opened it yet (0 of {total})"},
    "analytics.card.opened": {RU: "   клиент открыл стр. {pages} из {total} (впервые {when})",
                              EN: "   the client opened p. {pages} of {total} (first {when})"},
    "analytics.card.not_opened": {RU: "   не открыты: {pages}", EN: "   not opened: {pages}"},
    "analytics.card.counts": {RU: "   просмотров по страницам: {counts}",
                              EN: "   views per page: {counts}"},
    "analytics.card.history": {RU: "👥 Участники:", EN: "👥 Members:"},
    "analytics.card.client_joined": {RU: "   + {name} — {when}", EN: "   + {name} — {when}"},
    "analytics.card.client_left": {RU: "   − {name} — {when}", EN: "   − {name} — {when}"},
    "analytics.btn.chart": {RU: "📊 {file}", EN: "📊 {file}"},
    "analytics.btn.notify_on": {RU: "🔔 Уведомления о просмотрах: вкл.",
                                EN: "🔔 View notices: on"},
    "analytics.btn.notify_off": {RU: "🔕 Уведомления о просмотрах: выкл.",
                                 EN: "🔕 View notices: off"},
    "analytics.notify.on": {RU: "Уведомления о просмотрах включены.",
                            EN: "View notices are on."},
    "analytics.notify.off": {RU: "Уведомления о просмотрах выключены.",
                             EN: "View notices are off."},
    "analytics.chart.title": {RU: "«{file}»: страницы", EN: "“{file}”: pages"},
    "analytics.chart.legend": {RU: "зелёный — клиент открыл, красный — нет",
                               EN: "green: opened by the client, red: not opened"},
    "analytics.chart.counts": {RU: "просмотров каждой страницы (без ваших)",
                               EN: "views of each page (yours not counted)"},
    "analytics.chart.caption": {RU: "📊 «{file}» в «{channel}»",
                                EN: "📊 “{file}” in “{channel}”"},
    "analytics.gone": {RU: "Эта публикация недоступна.", EN: "This publication is not available."},
    "analytics.notice.opened": {
        RU: "👀 Клиент открыл смету «{file}» в «{channel}»: стр. {pages} из {total}.",
        EN: "👀 The client opened “{file}” in “{channel}”: p. {pages} of {total}.",
    },
    "analytics.notice.session_lost": {
        RU: ("Telegram отключил ваш аккаунт от бота, поэтому просмотры смет больше не "
             "проверяются. Подключите аккаунт снова: /start"),
        EN: ("Telegram disconnected your account from the bot, so views of your estimates are "
             "no longer checked. Connect the account again: /start"),
    },
    "analytics.admin": {
        RU: ("📊 Всего: подрядчиков {contractors}, каналов {channels}, публикаций "
             "{publications}, страниц {pages_rendered}, сбоев {failures}, клиентов вступило "
             "{clients_joined}, просмотров {views}."),
        EN: ("📊 In all: contractors {contractors}, channels {channels}, publications "
             "{publications}, pages {pages_rendered}, failures {failures}, clients joined "
             "{clients_joined}, views {views}."),
    },
    "analytics.trace.usage": {
        RU: "Пришлите код со страницы: /trace КОД (например, /trace K7M2P).",
        EN: "Send the code printed on the page: /trace CODE (for example, /trace K7M2P).",
    },
    "analytics.trace.unknown": {RU: "Код {code} не найден среди ваших публикаций.",
                                EN: "Code {code} is not one of your publications."},
    "analytics.trace.found": {
        RU: ("🔎 #{code}: «{file}», стр. {pages}\n"
             "Канал: «{channel}», опубликовано {when}\n"
             "Участники канала тогда и после:\n{members}"),
        EN: ("🔎 #{code}: “{file}”, p. {pages}\n"
             "Channel: “{channel}”, published {when}\n"
             "Channel members then and since:\n{members}"),
    },
    "analytics.trace.member": {RU: "• {name}, вступил {joined}{left}",
                               EN: "• {name}, joined {joined}{left}"},
    "analytics.trace.left": {RU: ", вышел {when}", EN: ", left {when}"},
    "analytics.trace.nobody": {RU: "• никого, кроме вас", EN: "• nobody but you"},
    "analytics.trace.opened": {RU: "\nОткрыты клиентами: стр. {pages}",
                               EN: "\nOpened by clients: p. {pages}"},
}


def t(key: str, lang: str, **params: object) -> str:
    """The text ``key`` in ``lang``, formatted with ``params``."""
    text = TEXTS[key][RU if lang == RU else EN]
    return text.format(**params) if params else text


def day(stamp: str, lang: str) -> str:
    """The date of a database timestamp as people write it: 28.11.2026 / 2026-11-28 (UTC)."""
    year, month, date = stamp[:10].split("-")
    return f"{date}.{month}.{year}" if lang == RU else stamp[:10]


def button_key(text: str) -> str | None:
    """Which button ``text`` is (in either language), or None."""
    for key, variants in TEXTS.items():
        if key.startswith("btn.") and text in variants.values():
            return key
    return None


def page_texts() -> dict[str, dict[str, str]]:
    """The login page's strings in both languages, for the page to pick from."""
    return {lang: {key[len("page."):]: value[lang] for key, value in TEXTS.items()
                   if key.startswith("page.")} for lang in (RU, EN)}


def duration(seconds: int, lang: str) -> str:
    """``seconds`` in words a person reads at a glance: "2 ч 5 мин", "40 s"."""
    ru = lang == "ru"
    hours, rest = divmod(max(int(seconds), 1), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "ч" if ru else "h"), (minutes, "мин" if ru else "min")]
    if not hours:
        parts.append((secs, "с" if ru else "s"))
    return " ".join(f"{n} {unit}" for n, unit in parts if n) or ("1 с" if ru else "1 s")


# «📢 Мои каналы» as the place where the work is managed (the channel card), and what a client
# of a channel hears from the bot.
TEXTS.update({
    "card.publications": {RU: "Публикации ({total}):", EN: "Publications ({total}):"},
    "card.publications_page": {RU: "Публикации ({total}, стр. {page} из {pages}):",
                               EN: "Publications ({total}, page {page} of {pages}):"},
    "card.no_publications": {RU: "Публикаций пока нет.", EN: "No publications yet."},
    "card.line": {RU: "{n}. «{title}» — {date}, стр. {pages}, #{code}",
                  EN: "{n}. “{title}” — {date}, pages {pages}, #{code}"},
    "card.line_withdrawn": {RU: "   🗑 снята с публикации", EN: "   🗑 withdrawn"},
    "card.line_replaced": {RU: "   🔁 заменена новой версией", EN: "   🔁 replaced by a new version"},
    "card.btn.replace": {RU: "🔁 {n}. Заменить новой версией", EN: "🔁 {n}. Replace with a new version"},
    "card.btn.withdraw": {RU: "🗑 {n}. Снять с публикации", EN: "🗑 {n}. Withdraw"},
    "card.btn.clients": {RU: "👥 Клиенты ({count})", EN: "👥 Clients ({count})"},
    "card.btn.archive_list": {RU: "🗄 Архив ({count})", EN: "🗄 Archive ({count})"},
    "card.btn.restore": {RU: "♻️ {title}", EN: "♻️ {title}"},
    "card.btn.remove": {RU: "❌ {n}. {name}", EN: "❌ {n}. {name}"},
    "card.btn.remove_yes": {RU: "Да, удалить", EN: "Yes, remove"},
    "card.btn.withdraw_yes": {RU: "Да, снять", EN: "Yes, withdraw"},
    "card.btn.no": {RU: "Нет, оставить", EN: "No, keep it"},
    "card.btn.prev": {RU: "⬅️ Новее", EN: "⬅️ Newer"},
    "card.btn.next": {RU: "Старее ➡️", EN: "Older ➡️"},
    "card.stale": {RU: "Это уже неактуально", EN: "This is no longer current"},
    "card.kept": {RU: "Хорошо, всё остаётся как было.", EN: "All right, nothing changes."},
    "card.withdraw_confirm": {
        RU: ("Снять «{title}» (стр. {pages}, #{code}) с публикации? Посты удалятся из канала "
             "«{channel}», клиент их больше не увидит. Запись о публикации останется в карточке."),
        EN: ("Withdraw “{title}” (pages {pages}, #{code})? Its posts are deleted from "
             "“{channel}” and the client no longer sees them. The record stays on the card."),
    },
    "card.cannot_delete": {
        RU: ("❌ Бот не смог удалить посты из «{channel}» ({reason}) — публикация осталась как "
             "была. Проверьте, что бот — администратор канала с правом удалять сообщения, и "
             "попробуйте снова."),
        EN: ("❌ The bot could not delete the posts from “{channel}” ({reason}); the publication "
             "stays as it was. Check that the bot is an admin of the channel allowed to delete "
             "messages, and try again."),
    },
    "card.withdrawn": {RU: "🗑 «{title}» снята с публикации: посты удалены из канала «{channel}».",
                       EN: "🗑 “{title}” is withdrawn: its posts are deleted from “{channel}”."},
    "card.replace_ask": {
        RU: ("🔁 Пришлите файлом новую версию «{title}».\n\nВсе её страницы будут опубликованы "
             "в «{channel}» под тем же названием, а старая версия (стр. {pages}, #{code}) будет "
             "удалена из канала — у клиента не останется двух разных смет.{left}\n\n"
             "Передумали — «✖️ Отмена»."),
        EN: ("🔁 Send the new version of “{title}” as a file.\n\nAll its pages are published "
             "in “{channel}” under the same title, and the old version (pages {pages}, #{code}) "
             "is deleted from the channel, so the client is never left with two different "
             "estimates.{left}\n\nChanged your mind? “✖️ Cancel”."),
    },
    "card.replace_need_file": {RU: "Пришлите новую версию «{title}» файлом (или «✖️ Отмена»).",
                               EN: "Send the new version of “{title}” as a file (or “✖️ Cancel”)."},
    "card.replace_received": {
        RU: "📥 Получил «{file}» — новую версию «{title}». Готовлю страницы…",
        EN: "📥 Got “{file}”, the new version of “{title}”. Preparing the pages…"},
    "card.replaced": {
        RU: ("🔁 «{title}» заменена: в «{channel}» теперь новая версия (#{code}), "
             "старые посты (#{old_code}) удалены."),
        EN: ("🔁 “{title}” is replaced: “{channel}” now holds the new version (#{code}); the "
             "old posts (#{old_code}) are deleted."),
    },
    "card.replaced_marked": {
        RU: ("🔁 «{title}»: новая версия (#{code}) опубликована в «{channel}». Старые посты "
             "(#{old_code}) Telegram удалить не дал — они подписаны «заменено новой версией»."),
        EN: ("🔁 “{title}”: the new version (#{code}) is published in “{channel}”. Telegram did "
             "not let the bot delete the old posts (#{old_code}); they are captioned “replaced "
             "by a new version”."),
    },
    "card.replaced_left": {
        RU: ("🔁 «{title}»: новая версия (#{code}) опубликована в «{channel}», но старые посты "
             "(#{old_code}) бот не смог ни удалить, ни подписать. Удалите их в канале вручную."),
        EN: ("🔁 “{title}”: the new version (#{code}) is published in “{channel}”, but the bot "
             "could neither delete nor caption the old posts (#{old_code}). Delete them in the "
             "channel by hand."),
    },
    "card.replace_kept": {
        RU: "Старая версия «{title}» (#{old_code}) остаётся в канале без изменений.",
        EN: "The old version of “{title}” (#{old_code}) stays in the channel unchanged."},
    "card.replace_failed": {RU: "{error}\n\nСтарая версия «{title}» (#{old_code}) остаётся в канале.",
                            EN: "{error}\n\nThe old version of “{title}” (#{old_code}) stays in the channel."},
    "card.replaced_mark": {RU: "⚠️ Заменено новой версией: «{title}» (#{code}).",
                           EN: "⚠️ Replaced by a new version: “{title}” (#{code})."},
    "card.members": {RU: "👥 Клиенты «{channel}» ({count}):\n\n{lines}\n\nКого удалить из канала?",
                     EN: "👥 Clients of “{channel}” ({count}):\n\n{lines}\n\nWhom to remove?"},
    "card.no_members": {RU: "👥 В «{channel}» пока нет клиентов.",
                        EN: "👥 “{channel}” has no clients yet."},
    "card.remove_confirm": {
        RU: ("Удалить {name} из «{channel}»? Он перестанет видеть канал, а ссылка, по которой он "
             "пришёл, будет отозвана. Позже его можно пригласить снова новой ссылкой."),
        EN: ("Remove {name} from “{channel}”? They stop seeing the channel and the link they "
             "came by is revoked. You can invite them again later with a new link."),
    },
    "card.removed": {
        RU: ("❌ {name} удалён из «{channel}». Ссылка, по которой он пришёл, отозвана — по ней "
             "больше никто не войдёт. Пригласить снова можно новой ссылкой: «🔗 Новая ссылка»."),
        EN: ("❌ {name} is removed from “{channel}”. The link they came by is revoked; nobody "
             "joins through it any more. To invite them again, make a new link: “🔗 New link”."),
    },
    "card.removed_no_link": {
        RU: ("❌ {name} удалён из «{channel}». Ссылка, по которой он пришёл, уже не действовала. "
             "Пригласить снова можно новой ссылкой."),
        EN: ("❌ {name} is removed from “{channel}”. The link they came by no longer worked. "
             "You can invite them again with a new link."),
    },
    "card.archive": {RU: "🗄 Архив ({count}). Восстановить канал:",
                     EN: "🗄 Archive ({count}). Restore a channel:"},
    "card.archive_empty": {RU: "🗄 В архиве нет каналов.", EN: "🗄 No archived channels."},
    "card.restored": {
        RU: "♻️ Канал «{title}» восстановлен из архива. Новая ссылка-приглашение:\n{link}",
        EN: "♻️ The channel “{title}” is restored from the archive. A new invite link:\n{link}"},
    # a client of a channel who is not a contractor
    "client.start": {
        RU: ("Здравствуйте! Вы клиент: через этого бота подрядчики делятся с вами сметами в "
             "закрытых каналах. Ваши каналы:\n\n{lines}\n\nОткройте канал кнопкой ниже, чтобы "
             "читать сметы; с вопросами пишите подрядчику.\n\nСами подрядчик и хотите "
             "публиковать сметы своим клиентам? Отправьте /connect."),
        EN: ("Hello! You are a client: contractors share estimates with you through this bot, "
             "in private channels. Your channels:\n\n{lines}\n\nOpen a channel with the buttons "
             "below to read the estimates; write to the contractor with questions.\n\nAre you a "
             "contractor who wants to publish estimates for your own clients? Send /connect."),
    },
    "client.line": {RU: "📢 «{channel}» — подрядчик {contractor}",
                    EN: "📢 “{channel}” — contractor {contractor}"},
    "client.line_archived": {RU: "📢 «{channel}» (архив) — подрядчик {contractor}",
                             EN: "📢 “{channel}” (archived) — contractor {contractor}"},
    "client.buttons": {RU: "Открыть канал или написать подрядчику:",
                       EN: "Open a channel or write to the contractor:"},
    "client.btn.open": {RU: "📢 {channel}", EN: "📢 {channel}"},
    "client.btn.write": {RU: "✉️ Написать: {contractor}", EN: "✉️ Write to {contractor}"},
})


# The client's answer under a publication: approval and questions (smetabot/bot/approvals.py).
TEXTS.update({
    "approve.post": {RU: "«{title}» (v{version}, код #{code}): согласуйте или задайте вопрос.",
                     EN: "“{title}” (v{version}, code #{code}): approve it or ask a question."},
    "approve.btn.approve": {RU: "✅ Согласовать", EN: "✅ Approve"},
    "approve.btn.ask": {RU: "💬 Задать вопрос", EN: "💬 Ask a question"},
    "approve.btn.confirm": {RU: "Да, согласовать «{title}» (код #{code})",
                            EN: "Yes, approve “{title}” (code #{code})"},
    "approve.btn.back": {RU: "↩️ Не сейчас", EN: "↩️ Not now"},
    "approve.confirm_hint": {RU: "Подтвердите: «{title}», версия {version}, код #{code}, "
                                 "{pages} стр.",
                             EN: "Please confirm: “{title}”, version {version}, code #{code}, "
                                 "{pages} pages"},
    "approve.approved_post": {RU: "«{title}» (v{version}, код #{code})\n✅ Согласовано {date}",
                              EN: "“{title}” (v{version}, code #{code})\n✅ Approved {date}"},
    "approve.replaced_post": {RU: "«{title}» (v{version}, код #{code}) заменена новой версией "
                                  "— согласовать можно только новую.",
                              EN: "“{title}” (v{version}, code #{code}) was replaced by a new "
                                  "version — only the new one can be approved."},
    "approve.done_alert": {RU: "✅ Вы согласовали «{title}» (код #{code}). Спасибо!",
                           EN: "✅ You approved “{title}” (code #{code}). Thank you!"},
    "approve.already": {RU: "Уже согласовано {when}.", EN: "Already approved {when}."},
    "approve.not_member": {RU: "Согласовать может только клиент — участник канала.",
                           EN: "Only a client who is a member of the channel can approve."},
    "approve.gone": {RU: "Эта версия больше не действует: согласовать её нельзя.",
                     EN: "This version is no longer current: it cannot be approved."},
    "approve.told": {RU: "✅ Клиент {who} согласовал «{title}» (v{version}, код #{code}) {when}",
                     EN: "✅ Client {who} approved “{title}” (v{version}, code #{code}) {when}"},
    "approve.ask_prompt": {RU: "💬 Вопрос по «{title}» (код #{code}). Напишите его одним "
                               "сообщением — я передам подрядчику, ответ придёт сюда.",
                           EN: "💬 A question about “{title}” (code #{code}). Type it in one "
                               "message — I will pass it to the contractor; the answer comes "
                               "here."},
    "approve.ask_unknown": {RU: "Не нашёл такую публикацию — возможно, она снята.",
                            EN: "I cannot find that publication — it may have been withdrawn."},
    "approve.ask_not_member": {RU: "Вопросы по этой публикации могут задавать только участники "
                                   "канала.",
                               EN: "Only members of the channel can ask about this publication."},
    "approve.ask_sent": {RU: "✅ Вопрос передан. Ответ придёт сюда.",
                         EN: "✅ Your question was passed on. The answer will come here."},
    "approve.ask_failed": {RU: "Не удалось передать вопрос: подрядчик сейчас недоступен в боте. "
                               "Свяжитесь с ним напрямую.",
                           EN: "The question could not be passed on: the contractor is not "
                               "reachable through the bot now. Please contact them directly."},
    "approve.withdrawn_post": {RU: "«{title}» (v{version}, код #{code}) снята с публикации.",
                               EN: "“{title}” (v{version}, code #{code}) was withdrawn."},
    "approve.ask_limit": {RU: "Слишком много вопросов подряд — подождите минуту.",
                          EN: "Too many questions in a row — please wait a minute."},
    "approve.relay": {RU: "💬 Вопрос от клиента {who} по «{title}» (v{version}, код #{code}):\n\n"
                          "{text}\n\nОтветьте на это сообщение (Ответить) или кнопкой ниже — "
                          "ответ уйдёт клиенту.",
                      EN: "💬 A question from client {who} about “{title}” (v{version}, code "
                          "#{code}):\n\n{text}\n\nReply to this message (Reply) or use the "
                          "button below — the answer goes to the client."},
    "approve.btn.answer": {RU: "↩️ Ответить клиенту", EN: "↩️ Answer the client"},
    "approve.answer_prompt": {RU: "Напишите ответ клиенту {who} одним сообщением.",
                              EN: "Type your answer to {who} in one message."},
    "approve.answer": {RU: "💬 Ответ подрядчика по «{title}» (код #{code}):\n\n{text}",
                       EN: "💬 The contractor's answer about “{title}” (code #{code}):\n\n{text}"},
    "approve.answer_sent": {RU: "✅ Ответ отправлен клиенту.", EN: "✅ The answer was sent."},
    "approve.answer_failed": {RU: "Не удалось доставить ответ: клиент остановил бота.",
                              EN: "The answer could not be delivered: the client stopped the bot."},
    "approve.card_approved": {RU: "   ✅ согласовано: {who}, {when}",
                              EN: "   ✅ approved by {who}, {when}"},
    "approve.card_waiting": {RU: "   ⏳ ждёт согласования", EN: "   ⏳ awaiting approval"},
    "approve.btn.switch_off": {RU: "✅ Кнопки «Согласовать» под публикациями: вкл.",
                               EN: "✅ “Approve” buttons under publications: on"},
    "approve.btn.switch_on": {RU: "⬜ Кнопки «Согласовать» под публикациями: выкл.",
                              EN: "⬜ “Approve” buttons under publications: off"},
    "approve.switched_on": {RU: "Новые публикации получат кнопки «Согласовать» и «Задать вопрос».",
                            EN: "New publications will get the “Approve” and “Ask” buttons."},
    "approve.switched_off": {RU: "Новые публикации выйдут без кнопок «Согласовать» и "
                                 "«Задать вопрос».",
                             EN: "New publications will go out without the “Approve” and "
                                 "“Ask” buttons."},
})
# Who gets into a channel: join requests, single-use links, the channel's join mode.
TEXTS.update({
    "join.request": {
        RU: "🚪 {name} просит доступ к «{channel}».\nСсылка: {link}\n{others}",
        EN: "🚪 {name} asks to join “{channel}”.\nLink: {link}\n{others}"},
    "join.others": {RU: "Уже клиент других ваших каналов: {titles}.",
                    EN: "Already a client of your other channels: {titles}."},
    "join.no_others": {RU: "В других ваших каналах его нет.",
                       EN: "Not a client of any other channel of yours."},
    "join.btn.approve": {RU: "✅ Пустить", EN: "✅ Let in"},
    "join.btn.decline": {RU: "❌ Отклонить", EN: "❌ Decline"},
    "join.approved": {RU: "✅ {name} допущен в «{channel}».",
                      EN: "✅ {name} is let into “{channel}”."},
    "join.declined": {
        RU: "❌ Запрос {name} в «{channel}» отклонён. Канал ему не виден; бот ему ничего не писал.",
        EN: "❌ {name}'s request to join “{channel}” is declined. They cannot see the channel; "
            "the bot told them nothing."},
    "join.already": {RU: "Уже решено", EN: "Already decided"},
    "join.card_mode": {RU: "Вход: {mode}", EN: "Joining: {mode}"},
    "join.mode.approve": {RU: "по одобрению", EN: "with your approval"},
    "join.mode.single_use": {RU: "по одноразовым ссылкам", EN: "by single-use links"},
    "join.mode.open": {RU: "открытая ссылка (войдёт любой, у кого она есть)",
                       EN: "open link (anyone who has it joins)"},
    "join.card_pending": {RU: "⏳ Ждут одобрения ({count}):\n{lines}",
                          EN: "⏳ Waiting for your approval ({count}):\n{lines}"},
    "join.card.btn_approve": {RU: "✅ {n}. Пустить {name}", EN: "✅ {n}. Let in {name}"},
    "join.card.btn_decline": {RU: "❌ {n}. Отклонить", EN: "❌ {n}. Decline"},
    "join.btn.single_use": {RU: "🔗 Одноразовая ссылка", EN: "🔗 Single-use link"},
    "join.btn.mode": {RU: "🔐 Как входят клиенты", EN: "🔐 How clients join"},
    "join.single_use_link": {
        RU: ("🔗 Одноразовая ссылка в «{title}»: по ней войдёт ровно один человек, потом она "
             "перестанет действовать.\n{link}"),
        EN: ("🔗 A single-use link to “{title}”: exactly one person can join through it, then "
             "it stops working.\n{link}")},
    "join.single_use_spent": {
        RU: ("👤 Клиент {name} присоединился к «{channel}» по одноразовой ссылке. Больше по ней "
             "никто не войдёт."),
        EN: ("👤 Client {name} joined “{channel}” by a single-use link. Nobody else can join "
             "through it.")},
    "join.mode_ask": {
        RU: ("Как клиенты попадают в «{title}»? Сейчас: {mode}.\n\n"
             "✅ По одобрению — по ссылке приходит запрос, вы нажимаете «Пустить» или "
             "«Отклонить».\n"
             "🔗 Одноразовые ссылки — каждая впускает одного человека.\n"
             "🔓 Открытая ссылка — входит любой, у кого есть ссылка.\n\n"
             "При смене режима прежние ссылки (кроме одноразовых) перестанут действовать, "
             "бот даст новую."),
        EN: ("How do clients get into “{title}”? Now: {mode}.\n\n"
             "✅ With approval — the link sends you a request; you tap “Let in” or “Decline”.\n"
             "🔗 Single-use links — each admits one person.\n"
             "🔓 Open link — anyone who has the link joins.\n\n"
             "Changing the mode stops the old links (single-use ones aside); the bot gives a "
             "new one.")},
    "join.mode.btn.approve": {RU: "✅ По одобрению", EN: "✅ With approval"},
    "join.mode.btn.single_use": {RU: "🔗 Одноразовые ссылки", EN: "🔗 Single-use links"},
    "join.mode.btn.open": {RU: "🔓 Открытая ссылка", EN: "🔓 Open link"},
    "join.mode_set": {
        RU: "Готово: в «{title}» теперь вход: {mode}. Прежние ссылки отозваны. Новая ссылка:\n{link}",
        EN: "Done: joining “{title}”: {mode}. The old links are revoked. The new link:\n{link}"},
})


# The «Согласовать» buttons switched per publication, from the channel card.
TEXTS.update({
    "approve.btn.remove": {RU: "🔕 {n}. Убрать кнопки «Согласовать»",
                           EN: "🔕 {n}. Remove the “Approve” buttons"},
    "approve.btn.add": {RU: "🔔 {n}. Добавить кнопки «Согласовать»",
                        EN: "🔔 {n}. Add the “Approve” buttons"},
    "approve.removed": {RU: "Кнопки «Согласовать» под «{title}» убраны из канала.",
                        EN: "The “Approve” buttons under “{title}” are gone from the channel."},
    "approve.added": {RU: "Под «{title}» в канале появились кнопки «Согласовать».",
                      EN: "The “Approve” buttons are now under “{title}” in the channel."},
    "approve.switch_failed": {
        RU: "Не вышло: Telegram не принял изменение в канале (или клиент уже согласовал). "
            "Откройте карточку канала заново.",
        EN: "That did not work: Telegram refused the change in the channel (or the client has "
            "approved already). Open the channel's card again."},
})

# Contact sheets: the pages of a document to choose from, a number tapped shows that page larger.
TEXTS.update({
    "publish.sheet": {
        RU: "🗂 «{file}»: стр. {pages} из {total}. Нажмите номер — покажу страницу крупнее.",
        EN: "🗂 “{file}”: pages {pages} of {total}. Tap a number to see that page larger."},
    "publish.page_view": {RU: "🔍 «{file}», стр. {number} из {total}",
                          EN: "🔍 “{file}”, page {number} of {total}"},
    "publish.page_view_wait": {RU: "Открываю стр. {number}…", EN: "Opening page {number}…"},
    # «📢 Мои каналы» when every channel is in the archive
    "mych.only_archived": {
        RU: ("Действующих каналов нет, в архиве: {count}. Восстановите канал кнопкой «🗄 Архив» "
             "или создайте новый: «🆕 Новый канал»."),
        EN: ("No active channels; archived: {count}. Restore one with “🗄 Archive”, or create "
             "a new one: “🆕 New channel”.")},
})
