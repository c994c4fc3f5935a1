"""Telegram's refusals in words for a contractor.

Telegram answers a call it will not do with an error (``FLOOD_WAIT_42``, ``CHANNEL_PRIVATE``,
…); kurigram raises it as an ``RPCError`` subclass whose ``ID`` names it, or, for a 5xx answer
it retried to no avail, as a plain ``TimeoutError``. This module turns either into a *kind*
(`kind_of`) and a kind into the sentence the contractor reads (`explain`): what happened and
what to do, in Russian or English. It imports nothing of the app, so the bot, the login API
and the tests use the same words.

Kinds are ``specific:<key>`` (one situation, its own sentence) or ``group:<name>`` (a family of
refusals answered alike: ``flood``, ``gone``, ``forbidden``, ``file_refused``,
``telegram_trouble``, ``request_refused``, ``operator``). ``UNKNOWN`` is what anything else
gets; ``tests/data/telegram_errors.tsv`` lists every refusal Telegram documents for the methods
SmetaBot calls, and a test checks each reachable one gets the kind the table names, never
``UNKNOWN``.
"""

from __future__ import annotations

import math
import re

UNKNOWN = "unknown"

# -- what each kind tells the contractor -----------------------------------------------------

#: kind -> (Russian, English); ``{wait}`` is the waiting time in words.
TEXTS: dict[str, tuple[str, str]] = {
    "group:flood": (
        ("Telegram временно ограничил частоту действий. Подождите {wait} — бот продолжит сам, "
        "повторять ничего не нужно."),
        ("Telegram is limiting how often this can be done. Wait {wait}; the bot will carry on "
        "by itself, there is nothing to repeat."),
    ),
    "group:gone": (
        ("Канал или чат больше недоступен: похоже, его удалили или вы из него вышли. Бот "
        "прекратил попытки. Если канал нужен, создайте новый: кнопка «🆕 Новый канал»."),
        ("The channel or chat is no longer available: it seems to have been deleted, or you "
        "left it. The bot has stopped trying. If you still need it, create a new one: the "
        "“🆕 New channel” button."),
    ),
    "group:forbidden": (
        ("Telegram не разрешает вашему аккаунту это действие (ограничение Telegram для этого "
        "аккаунта или канала). Проверьте права в настройках канала и попробуйте снова."),
        ("Telegram does not allow your account to do this (a Telegram restriction on this "
        "account or channel). Check the rights in the channel's settings and try again."),
    ),
    "group:file_refused": (
        ("Telegram не принял файл страницы. Нажмите «Повторить» — бот загрузит страницы заново; "
        "если отказ повторится, пришлите документ ещё раз (например, сохранённый как PDF)."),
        ("Telegram refused the page file. Press “Retry” and the bot will upload the pages "
        "again; if it is refused again, send the document once more (saved as PDF, say)."),
    ),
    "group:telegram_trouble": (
        ("У Telegram сейчас сбой: он не выполнил действие, хотя бот попробовал несколько раз. "
        "Обычно это проходит за несколько минут; ничего не будет отправлено дважды."),
        ("Telegram is having trouble: it did not do this, though the bot tried a few times. "
        "It usually passes within minutes; nothing will be sent twice."),
    ),
    "group:request_refused": (
        ("Telegram отклонил сообщение бота в таком виде. Действие не выполнено; попробуйте ещё "
        "раз, а если отказ повторится — напишите администратору SmetaBot."),
        ("Telegram refused the bot's message in this form. Nothing was done; try again, and if "
        "it is refused again, tell your SmetaBot administrator."),
    ),
    "group:operator": (
        ("Бот SmetaBot на этом сервере настроен так, что Telegram отказал (ключи приложения или "
        "настройки бота в BotFather). Сообщите администратору SmetaBot — вам ничего делать "
        "не нужно."),
        ("This SmetaBot server is set up in a way Telegram refuses (its app keys or the bot's "
        "settings in BotFather). Tell your SmetaBot administrator; there is nothing for you "
        "to do."),
    ),
    # -- login ---------------------------------------------------------------------------
    "specific:phone_flood": (
        ("Telegram временно запретил присылать коды на этот номер: их запрашивали слишком часто. "
        "Обычно запрет длится несколько часов, иногда до суток. Не запрашивайте код снова — "
        "каждая попытка продлевает запрет. Войти можно сейчас по QR-коду."),
        ("Telegram has stopped sending codes to this number for a while: they were requested "
        "too often. It usually lasts a few hours, sometimes a day. Do not ask for a code "
        "again, each attempt makes it longer. You can log in with the QR code right now."),
    ),
    "specific:password_flood": (
        ("Слишком много попыток входа в этот аккаунт: Telegram заблокировал вход на время, "
        "обычно на несколько часов, иногда до суток. Не пробуйте снова до тех пор — каждая "
        "попытка продлевает блокировку."),
        ("Too many login attempts on this account: Telegram has blocked logging in for a while, "
        "usually a few hours, sometimes a day. Do not try again until then; each attempt makes "
        "it longer."),
    ),
    "specific:update_app": (
        ("Telegram не пускает этот способ входа по коду. Войдите по QR-коду: откройте Telegram "
        "на телефоне → Настройки → Устройства → «Подключить устройство» и отсканируйте код."),
        ("Telegram does not accept logging in with a code this way. Log in with the QR code: on "
        "your phone open Telegram → Settings → Devices → “Link Desktop Device” and scan it."),
    ),
    "specific:phone_banned": (
        ("Telegram заблокировал этот номер телефона, войти с ним нельзя. Обратитесь в поддержку "
        "Telegram (recover@telegram.org) или подключите другой аккаунт."),
        ("Telegram has banned this phone number; it cannot log in. Contact Telegram support "
        "(recover@telegram.org) or connect another account."),
    ),
    "specific:phone_invalid": (
        ("Telegram не узнал этот номер. Введите его полностью, с кодом страны, например "
        "+7 900 123-45-67."),
        ("Telegram does not recognise this number. Enter it in full with the country code, "
        "e.g. +44 7700 900123."),
    ),
    "specific:phone_unoccupied": (
        ("На этот номер не зарегистрирован аккаунт Telegram. Проверьте номер или сначала "
        "зарегистрируйтесь в приложении Telegram."),
        ("No Telegram account is registered to this number. Check the number, or sign up in "
        "the Telegram app first."),
    ),
    "specific:code_invalid": (
        "Код неверный. Проверьте код в сообщении от Telegram и введите его ещё раз.",
        "That code is wrong. Check the code in Telegram's message and enter it again.",
    ),
    "specific:code_expired": (
        "Срок действия кода истёк. Запросите новый код и введите его сразу.",
        "The code has expired. Ask for a new code and enter it straight away.",
    ),
    "specific:password_invalid": (
        ("Пароль двухэтапной проверки неверный. Введите его ещё раз (это пароль, который вы "
        "задали в Telegram, а не код из сообщения)."),
        ("The two-step verification password is wrong. Enter it again (the password you set in "
        "Telegram, not the code from the message)."),
    ),
    "specific:password_changed": (
        "Пароль аккаунта только что изменился. Введите новый пароль.",
        "The account's password has just changed. Enter the new password.",
    ),
    "specific:qr_expired": (
        "Этот QR-код больше не действует. Обновите страницу входа и отсканируйте новый код.",
        "This QR code is no longer valid. Reload the login page and scan the new code.",
    ),
    "specific:login_restart": (
        "Telegram прервал вход. Начните вход заново — с номера телефона или с QR-кода.",
        "Telegram interrupted the login. Start again, from the phone number or the QR code.",
    ),
    "specific:session_revoked": (
        ("Telegram завершил сеанс SmetaBot в вашем аккаунте. Подключите аккаунт заново: кнопка "
        "«🔐 Подключить аккаунт»."),
        ("Telegram has ended SmetaBot's session of your account. Connect the account again: the "
        "“🔐 Connect account” button."),
    ),
    # -- the bot's own messages ------------------------------------------------------------
    "specific:bot_blocked": (
        ("Вы заблокировали бота в Telegram, поэтому он не может вам писать. Разблокируйте его "
        "(чат с ботом → «Разблокировать»): всё, что бот сделал за это время, сохранено."),
        ("You have blocked the bot in Telegram, so it cannot write to you. Unblock it (the "
        "bot's chat → “Unblock”): everything it did meanwhile is kept."),
    ),
    "specific:message_gone": (
        "Сообщение, которое бот обновлял, удалено. Бот пришлёт новое и продолжит работу.",
        ("The message the bot was updating has been deleted. The bot sends a new one and "
        "carries on."),
    ),
    "specific:query_expired": (
        "Эта кнопка устарела. Нажмите её ещё раз или откройте меню: /menu.",
        "This button has expired. Press it again or open the menu: /menu.",
    ),
    "specific:message_too_long": (
        "Текст не помещается в одно сообщение Telegram. Бот разделит его на части.",
        "The text does not fit in one Telegram message. The bot splits it into parts.",
    ),
    "specific:not_modified": (
        "Всё уже так, как нужно, — менять нечего.",
        "It is already that way; there is nothing to change.",
    ),
    "specific:duplicate_send": (
        "Telegram уже получил эту публикацию раньше, второй раз она не отправляется.",
        "Telegram already has this publication; it is not sent a second time.",
    ),
    # -- channels --------------------------------------------------------------------------
    "specific:bot_not_admin": (
        ("Бот больше не администратор этого канала (или у него отняли право публиковать). "
        "Откройте канал → Администраторы, верните боту права и нажмите «Повторить»."),
        ("The bot is no longer an admin of this channel (or lost the right to post). Open the "
        "channel → Administrators, give the bot its rights back and press “Retry”."),
    ),
    "specific:account_not_admin": (
        ("Ваш аккаунт Telegram больше не администратор этого канала (или у него нет нужного "
        "права). Дело не в боте: верните своему аккаунту права в канале или создайте новый "
        "канал."),
        ("Your own Telegram account is no longer an admin of this channel (or lacks the right "
        "needed). It is not about the bot: get your account's rights back in the channel, or "
        "create a new channel."),
    ),
    "specific:fresh_admin_wait": (
        ("Telegram пока не разрешает вашему аккаунту назначать администраторов (так бывает "
        "вскоре после входа на новом устройстве). Добавьте бота администратором канала вручную "
        "— бот заметит это сам."),
        ("Telegram does not yet let your account appoint admins (this happens shortly after "
        "logging in on a new device). Add the bot as an admin of the channel by hand; the bot "
        "will notice by itself."),
    ),
    "specific:channels_too_much": (
        ("Ваш аккаунт состоит в слишком многих каналах и группах — это лимит Telegram. Выйдите "
        "из ненужных каналов или архивируйте старые каналы клиентов, затем повторите."),
        ("Your account is in too many channels and groups; that is Telegram's limit. Leave some "
        "you do not need, or archive old client channels, then try again."),
    ),
    "specific:account_restricted": (
        ("Telegram ограничил ваш аккаунт (обычно после жалоб на спам), и он не может создавать "
        "каналы и приглашать людей. Узнайте подробности у @SpamBot в Telegram."),
        ("Telegram has restricted your account (usually after spam reports), so it cannot "
        "create channels or invite people. Ask @SpamBot in Telegram for details."),
    ),
    "specific:title_refused": (
        "Telegram не принял название канала. Пришлите другое название.",
        "Telegram did not accept the channel name. Send another name.",
    ),
    "specific:avatar_refused": (
        ("Telegram не принял эту картинку как аватар канала; канал создан без неё. Пришлите "
        "другую картинку: JPG или PNG, не меньше 200×200 точек."),
        ("Telegram did not accept this picture as the channel's avatar; the channel was made "
        "without it. Send another picture: JPG or PNG, at least 200×200 pixels."),
    ),
    "specific:invite_gone": (
        "Эта ссылка-приглашение уже не действует. Бот создаст новую: кнопка «🔗 Новая ссылка».",
        ("This invite link no longer works. The bot will make a new one: the “🔗 New link” "
        "button."),
    ),
    "specific:member_cannot_join": (
        ("Telegram не даёт этому человеку вступить: он состоит в слишком многих каналах и "
        "группах. Попросите его выйти из ненужных и подать заявку снова."),
        ("Telegram will not let this person join: they are in too many channels and groups. "
        "Ask them to leave some they do not need and request to join again."),
    ),
    "specific:join_request_gone": (
        "Эту заявку на вступление уже рассмотрели (или человек её отозвал).",
        "This join request has already been handled (or the person withdrew it).",
    ),
    # -- publishing ------------------------------------------------------------------------
    "specific:file_reference_expired": (
        ("Telegram потерял загруженные страницы и не принял их и после повторной загрузки. "
        "Ничего не опубликовано. Нажмите «Повторить» — бот загрузит страницы ещё раз."),
        ("Telegram lost the uploaded pages and refused them again after a second upload. "
        "Nothing was posted. Press “Retry” and the bot will upload the pages once more."),
    ),
    UNKNOWN: (
        "Telegram не выполнил действие ({error}). Попробуйте ещё раз через несколько минут.",
        "Telegram did not do this ({error}). Try again in a few minutes.",
    ),
}

# -- which refusal is which kind ---------------------------------------------------------------

_G = {name: f"group:{name}" for name in ("flood", "gone", "forbidden", "file_refused",
                                         "telegram_trouble", "request_refused", "operator")}


def _each(kind: str, *ids: str) -> dict[str, str]:
    return dict.fromkeys(ids, kind)


#: error ID (kurigram's spelling: numbers as ``X``) -> kind, whichever method refused.
BY_ERROR: dict[str, str] = {
    **_each(_G["flood"], "FLOOD_WAIT_X", "FLOOD_PREMIUM_WAIT_X", "SLOWMODE_WAIT_X",
            "FLOOD_TEST_PHONE_WAIT_X", "TAKEOUT_INIT_DELAY_X"),
    **_each(_G["gone"], "CHANNEL_PRIVATE", "CHANNEL_INVALID", "CHAT_ID_INVALID", "CHAT_INVALID",
            "PEER_ID_INVALID", "INPUT_USER_DEACTIVATED", "USER_ID_INVALID",
            "PARTICIPANT_ID_INVALID", "USER_NOT_PARTICIPANT", "USER_DEACTIVATED",
            "CHANNEL_PUBLIC_GROUP_NA", "USERNAME_INVALID", "USERNAME_NOT_OCCUPIED",
            "USERNAME_OCCUPIED", "YOU_BLOCKED_USER", "USER_IS_BOT"),
    **_each(_G["forbidden"], "CHAT_WRITE_FORBIDDEN", "CHAT_RESTRICTED", "USER_BANNED_IN_CHANNEL",
            "PREMIUM_ACCOUNT_REQUIRED", "PRIVACY_PREMIUM_REQUIRED", "CHAT_SEND_MEDIA_FORBIDDEN",
            "CHAT_SEND_PHOTOS_FORBIDDEN", "CHAT_SEND_DOCS_FORBIDDEN", "CHAT_SEND_PLAIN_FORBIDDEN",
            "CHAT_GUEST_SEND_FORBIDDEN", "CHAT_FORWARDS_RESTRICTED", "EDIT_BOT_INVITE_FORBIDDEN",
            "MESSAGE_DELETE_FORBIDDEN", "MESSAGE_EDIT_TIME_EXPIRED", "USER_PRIVACY_RESTRICTED",
            "USER_NOT_MUTUAL_CONTACT", "USER_CHANNELS_TOO_MUCH", "USERS_TOO_MUCH",
            "ALLOW_PAYMENT_REQUIRED", "ALLOW_PAYMENT_REQUIRED_X", "USER_ALREADY_PARTICIPANT",
            "PHONE_NUMBER_APP_SIGNUP_FORBIDDEN", "PHONE_PASSWORD_PROTECTED", "USER_ADMIN_INVALID",
            "BANNED_RIGHTS_INVALID"),
    **_each(_G["file_refused"], "FILE_PARTS_INVALID", "FILE_PART_EMPTY", "FILE_PART_INVALID",
            "FILE_PART_LENGTH_INVALID", "FILE_PART_SIZE_CHANGED", "FILE_PART_SIZE_INVALID",
            "FILE_PART_TOO_BIG", "FILE_PART_TOO_SMALL", "FILE_PART_X_MISSING", "MEDIA_EMPTY",
            "MEDIA_INVALID", "PHOTO_INVALID_DIMENSIONS", "PHOTO_EXT_INVALID", "PHOTO_INVALID",
            "IMAGE_PROCESS_FAILED", "INPUT_FILE_INVALID", "MD5_CHECKSUM_INVALID",
            "DOCUMENT_INVALID", "FILE_ID_INVALID", "LOCATION_INVALID", "OFFSET_INVALID",
            "LIMIT_INVALID", "MULTI_MEDIA_TOO_LONG", "PHOTO_CROP_SIZE_SMALL",
            "PHOTO_FILE_MISSING", "STICKER_MIME_INVALID", "CDN_METHOD_INVALID"),
    **_each(_G["telegram_trouble"], "MSG_WAIT_FAILED", "PHOTO_SAVE_FILE_INVALID",
            "AUTH_KEY_UNSYNCHRONIZED", "SMS_CODE_CREATE_FAILED", "RANDOM_ID_EMPTY",
            "INTERNAL", "TIMEOUT"),
    **_each(_G["request_refused"], "BUTTON_DATA_INVALID", "BUTTON_TYPE_INVALID",
            "BUTTON_URL_INVALID", "BUTTON_COPY_TEXT_INVALID", "BUTTON_INVALID",
            "BUTTON_TEXT_INVALID", "BOT_DOMAIN_INVALID", "REPLY_MARKUP_INVALID",
            "REPLY_MARKUP_TOO_LONG", "ENTITY_BOUNDS_INVALID", "ENTITY_MENTION_USER_INVALID",
            "MESSAGE_EMPTY", "BOT_COMMAND_INVALID", "BOT_COMMAND_DESCRIPTION_INVALID",
            "LANG_CODE_INVALID", "USAGE_LIMIT_INVALID", "EXPIRE_DATE_INVALID", "URL_INVALID",
            "CHAT_INVITE_PERMANENT", "USER_BOT_REQUIRED", "CONNECTION_LAYER_INVALID",
            "FROM_MESSAGE_BOT_DISABLED"),
    **_each(_G["operator"], "API_ID_INVALID", "API_ID_PUBLISHED_FLOOD", "ACCESS_TOKEN_INVALID",
            "ACCESS_TOKEN_EXPIRED", "BOT_GROUPS_BLOCKED", "BOT_CHANNELS_NA"),
    "PHONE_NUMBER_FLOOD": "specific:phone_flood",
    "PHONE_PASSWORD_FLOOD": "specific:password_flood",
    "UPDATE_APP_TO_LOGIN": "specific:update_app",
    "PHONE_NUMBER_BANNED": "specific:phone_banned",
    "PHONE_NUMBER_INVALID": "specific:phone_invalid",
    "PHONE_NUMBER_UNOCCUPIED": "specific:phone_unoccupied",
    **_each("specific:code_invalid", "PHONE_CODE_INVALID", "PHONE_CODE_EMPTY"),
    "PHONE_CODE_EXPIRED": "specific:code_expired",
    "PASSWORD_HASH_INVALID": "specific:password_invalid",
    **_each("specific:password_changed", "SRP_PASSWORD_CHANGED", "SRP_ID_INVALID"),
    **_each("specific:qr_expired", "AUTH_TOKEN_EXPIRED", "AUTH_TOKEN_INVALID",
            "AUTH_TOKEN_INVALIDX", "AUTH_TOKEN_ALREADY_ACCEPTED"),
    **_each("specific:login_restart", "AUTH_RESTART", "AUTH_RESTART_X", "SIGN_IN_FAILED"),
    **_each("specific:session_revoked", "AUTH_KEY_UNREGISTERED", "SESSION_REVOKED",
            "SESSION_EXPIRED", "USER_DEACTIVATED_BAN", "AUTH_KEY_INVALID"),
    **_each("specific:bot_blocked", "USER_IS_BLOCKED", "USER_BLOCKED"),
    **_each("specific:message_gone", "MESSAGE_ID_INVALID", "MSG_ID_INVALID"),
    "QUERY_ID_INVALID": "specific:query_expired",
    **_each("specific:message_too_long", "MESSAGE_TOO_LONG", "ENTITIES_TOO_LONG",
            "MEDIA_CAPTION_TOO_LONG"),
    **_each("specific:not_modified", "MESSAGE_NOT_MODIFIED", "CHAT_NOT_MODIFIED"),
    "RANDOM_ID_DUPLICATE": "specific:duplicate_send",
    **_each("specific:bot_not_admin", "CHAT_ADMIN_REQUIRED", "RIGHT_FORBIDDEN",
            "CHAT_ADMIN_INVITE_REQUIRED"),
    "FRESH_CHANGE_ADMINS_FORBIDDEN": "specific:fresh_admin_wait",
    **_each("specific:channels_too_much", "CHANNELS_TOO_MUCH", "CHANNELS_ADMIN_PUBLIC_TOO_MUCH"),
    **_each("specific:account_restricted", "USER_RESTRICTED", "PEER_FLOOD"),
    **_each("specific:title_refused", "CHAT_TITLE_EMPTY", "CHAT_TITLE_NOT_MODIFIED"),
    **_each("specific:invite_gone", "INVITE_HASH_EXPIRED", "INVITE_HASH_INVALID"),
    "HIDE_REQUESTER_MISSING": "specific:join_request_gone",
    **_each("specific:file_reference_expired", "FILE_REFERENCE_EXPIRED",
            "FILE_REFERENCE_X_EXPIRED", "FILE_REFERENCE_EMPTY", "FILE_REFERENCE_X_EMPTY",
            "FILE_REFERENCE_INVALID", "FILE_REFERENCE_X_INVALID", "FILEREF_UPGRADE_NEEDED"),
}

#: the calls the contractor's own account makes (not the bot): there an admin refusal is about
#: the contractor's rights in their channel, and a photo refusal is about the avatar.
USER_CLIENT_METHODS = frozenset({
    "channels.createchannel", "channels.editphoto", "channels.editadmin",
    "channels.getparticipant", "messages.togglenoforwards", "contacts.resolveusername",
    "messages.getmessagesviews",
})

#: (method, error ID) -> kind, where the method changes what the refusal means.
BY_METHOD: dict[tuple[str, str], str] = {
    **{(m, e): "specific:account_not_admin" for m in USER_CLIENT_METHODS
       for e in ("CHAT_ADMIN_REQUIRED", "RIGHT_FORBIDDEN", "CHAT_ADMIN_INVITE_REQUIRED",
                 "CHAT_WRITE_FORBIDDEN")},
    **{("channels.editphoto", e): "specific:avatar_refused" for e in (
        "PHOTO_CROP_SIZE_SMALL", "PHOTO_EXT_INVALID", "PHOTO_FILE_MISSING", "PHOTO_INVALID",
        "IMAGE_PROCESS_FAILED", "FILE_PARTS_INVALID", "STICKER_MIME_INVALID",
        "FILE_REFERENCE_INVALID")},
    # the bot put out of the channel it posts pages to (the contractor removed it; the
    # publication waits for its rights, as for CHAT_ADMIN_REQUIRED)
    **{(m, "CHANNEL_PRIVATE"): "specific:bot_not_admin" for m in (
        "messages.sendmedia", "messages.sendmultimedia", "messages.uploadmedia")},
    # the bot without rights in a channel it posts to, or makes links for
    **{(m, "CHAT_WRITE_FORBIDDEN"): "specific:bot_not_admin" for m in (
        "messages.sendmedia", "messages.sendmultimedia", "messages.uploadmedia",
        "messages.exportchatinvite", "messages.editexportedchatinvite",
        "messages.hidechatjoinrequest", "channels.editbanned", "channels.deletemessages")},
    ("channels.createchannel", "CHAT_INVALID"): _G["telegram_trouble"],  # a 500 there
    # the contractor's own file, downloaded by the bot: they send it again
    **{("upload.getfile", e): _G["file_refused"] for e in (
        "FILE_REFERENCE_EXPIRED", "FILE_REFERENCE_EMPTY", "FILE_REFERENCE_INVALID")},
    ("messages.setbotcallbackanswer", "MESSAGE_TOO_LONG"): _G["request_refused"],
    # kurigram retries a 500 with the same random_id and raises TimeoutError: only the pages'
    # own sends (publishing.send_once) see Telegram's "already sent"
    ("messages.sendmessage", "RANDOM_ID_DUPLICATE"): _G["telegram_trouble"],
    ("messages.editmessage", "MESSAGE_EDIT_TIME_EXPIRED"): "specific:message_gone",
    # the bot's own username not resolving is the operator's setup, not a vanished chat
    **{("contacts.resolveusername", e): _G["operator"] for e in (
        "USERNAME_INVALID", "USERNAME_NOT_OCCUPIED")},
    ("auth.sendcode", "PHONE_PASSWORD_PROTECTED"): "specific:update_app",
    ("auth.sendcode", "PHONE_NUMBER_APP_SIGNUP_FORBIDDEN"): "specific:phone_unoccupied",
    # approving a join request: the limits named are the requester's, not the contractor's
    **{("messages.hidechatjoinrequest", e): "specific:member_cannot_join" for e in (
        "CHANNELS_TOO_MUCH", "USER_CHANNELS_TOO_MUCH")},
    ("messages.hidechatjoinrequest", "USER_ALREADY_PARTICIPANT"): "specific:join_request_gone",
    ("channels.editbanned", "USER_ADMIN_INVALID"): "specific:bot_not_admin",
    ("channels.editbanned", "BANNED_RIGHTS_INVALID"): _G["request_refused"],
    ("channels.deletemessages", "MESSAGE_DELETE_FORBIDDEN"): "specific:bot_not_admin",
}


#: refusals that pass by themselves: the bot waits or retries, boundedly, and carries on
TRANSIENT = frozenset({"group:flood", "group:telegram_trouble"})
#: refusals that need no word to the contractor: the thing is already done or no longer matters
HARMLESS = frozenset({"specific:not_modified", "specific:query_expired",
                      "specific:duplicate_send"})


def is_transient(kind: str) -> bool:
    """Whether retrying later (after the wait, for a flood) may succeed without anyone acting."""
    return kind in TRANSIENT


def is_harmless(kind: str) -> bool:
    """Whether the refusal means the goal is already reached, so nothing is said."""
    return kind in HARMLESS


def error_id(exc: BaseException) -> str:
    """The refusal's ID in kurigram's spelling (``FLOOD_WAIT_X``); ``TIMEOUT`` for a 5xx that
    kurigram gave up retrying, ``INTERNAL`` for another 5xx."""
    if isinstance(exc, TimeoutError):
        return "TIMEOUT"
    ident = getattr(exc, "ID", None)
    if not ident:
        # an error kurigram's tables do not know: value is "[400 SOME_ERROR_12]"
        match = re.search(r"\[\d+ ([A-Z0-9_]+)\]", str(getattr(exc, "value", "") or ""))
        ident = re.sub(r"_\d+", "_X", match.group(1)) if match else ""
    code = getattr(exc, "CODE", None)
    if not ident and isinstance(code, int) and code >= 500:
        return "INTERNAL"
    return ident or type(exc).__name__


def method_of(exc: BaseException) -> str | None:
    """The Telegram method that refused, as kurigram names it in the error's message."""
    match = re.search(r'caused by "([\w.]+)"', str(exc))
    return match.group(1) if match else None


def normalize_method(method: str) -> str:
    """``messages.SendMessage`` (kurigram) and ``messages.sendMessage`` (the docs) alike."""
    return method.strip().lower()


def normalize_error(error: str) -> str:
    """The docs spell a number as ``%d``, kurigram as ``X``."""
    return error.replace("%d", "X")


def kind_of(exc: BaseException, method: str | None = None) -> str:
    """The kind of refusal ``exc`` is (see the module's docstring); ``method`` as in the docs
    or kurigram, else read from the error's message."""
    ident = error_id(exc)
    method = method or method_of(exc)
    if method:
        kind = BY_METHOD.get((normalize_method(method), ident))
        if kind:
            return kind
    kind = BY_ERROR.get(ident)
    if kind:
        return kind
    code = getattr(exc, "CODE", None)
    if isinstance(code, int):
        if code == 420:
            return _G["flood"]
        if code >= 500:
            return _G["telegram_trouble"]
    return UNKNOWN


def wait_seconds(exc: BaseException) -> int | None:
    """How long Telegram asked to wait, for a flood refusal that says."""
    value = getattr(exc, "value", None)
    if isinstance(value, int) and value >= 0:
        return value
    return None


_RU_UNITS = {
    "second": ("секунду", "секунды", "секунд"),
    "minute": ("минуту", "минуты", "минут"),
    "hour": ("час", "часа", "часов"),
    "day": ("день", "дня", "дней"),
}


def ru_plural(n: int, forms: tuple[str, str, str]) -> str:
    """The Russian form for ``n`` (accusative, as after «подождите»): 1 минуту, 3 минуты,
    5 минут, 11 минут, 21 минуту."""
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def wait_words(seconds: int | None, lang: str = "ru") -> str:
    """A waiting time in words, rounded up to the unit that reads naturally: «3 минуты»,
    "2 hours"; «немного» / "a little" when Telegram did not say."""
    ru = (lang or "").lower().startswith("ru")
    if seconds is None:
        return "немного" if ru else "a little"
    seconds = max(1, int(seconds))
    if seconds < 60:
        n, unit = seconds, "second"
    elif seconds < 3600:
        n, unit = math.ceil(seconds / 60), "minute"
    elif seconds < 2 * 86400:
        hours, minutes = divmod(math.ceil(seconds / 60), 60)
        if minutes:  # "1 час 5 минут": an hour and five is not two hours
            return f"{_count(hours, 'hour', ru)} {_count(minutes, 'minute', ru)}"
        n, unit = hours, "hour"
    else:
        n, unit = math.ceil(seconds / 86400), "day"
    if n == 60 and unit == "minute":
        n, unit = 1, "hour"
    return _count(n, unit, ru)


def _count(n: int, unit: str, ru: bool) -> str:
    if ru:
        return f"{n} {ru_plural(n, _RU_UNITS[unit])}"
    return f"{n} {unit}" + ("" if n == 1 else "s")


def text_for(kind: str, lang: str = "ru", seconds: int | None = None, error: str = "") -> str:
    """The sentence for ``kind`` in ``lang`` (Russian for "ru…", English otherwise)."""
    ru_text, en_text = TEXTS.get(kind, TEXTS[UNKNOWN])
    ru = (lang or "").lower().startswith("ru")
    return (ru_text if ru else en_text).format(wait=wait_words(seconds, lang), error=error)


def explain(exc: BaseException, lang: str = "ru", method: str | None = None) -> str:
    """What the contractor reads about ``exc``: what happened and what to do."""
    kind = kind_of(exc, method)
    return text_for(kind, lang, seconds=wait_seconds(exc), error=error_id(exc))
