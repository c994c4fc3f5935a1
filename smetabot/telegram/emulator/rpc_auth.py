"""Signing in (bot token, phone code, QR token, SRP 2FA) and account-level functions."""

from __future__ import annotations

import re
import secrets

from pyrogram import raw

from . import tl
from .server import Call, Server
from .srp import P_BYTES, G, challenge, verify
from .state import DC_IDS, Account, ExportedAuth, LoginCode, LoginToken, SrpChallenge, peer_hash
from .wire import TelegramError, bad_request, handler

BOT_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


def authorization(emu: Server, call: Call, account: Account) -> raw.types.auth.Authorization:
    """Sign this session's auth key in as ``account``."""
    call.key.user_id = account.id
    call.key.password_pending_for = None
    call.key.created = emu.now()
    return raw.types.auth.Authorization(user=tl.user(account.id, account))


def _signed_in_or_password(emu: Server, call: Call, account: Account):
    if account.password is not None:
        call.key.password_pending_for = account.id
        raise TelegramError(401, "SESSION_PASSWORD_NEEDED")
    return authorization(emu, call, account)


@handler("help.GetConfig", auth=False)
def get_config(call: Call, q) -> raw.types.Config:
    now = call.emu.now()
    limits = call.emu.limits
    return raw.types.Config(
        date=now, expires=now + 3600, test_mode=False, this_dc=call.session.dc_id,
        dc_options=[raw.types.DcOption(id=dc, ip_address="127.0.0.1", port=443,
                                       media_only=media or None)
                    for dc in DC_IDS for media in (False, True)],
        dc_txt_domain_name="", chat_size_max=200, megagroup_size_max=200000,
        forwarded_count_max=100, online_update_period_ms=210000,
        offline_blur_timeout_ms=5000, offline_idle_timeout_ms=30000,
        online_cloud_timeout_ms=300000, notify_cloud_delay_ms=30000,
        notify_default_delay_ms=1500, push_chat_period_ms=60000, push_chat_limit=2,
        edit_time_limit=172800, revoke_time_limit=2147483647,
        revoke_pm_time_limit=2147483647, rating_e_decay=2419200, stickers_recent_limit=200,
        channels_read_media_period=604800, call_receive_timeout_ms=20000,
        call_ring_timeout_ms=90000, call_connect_timeout_ms=30000,
        call_packet_timeout_ms=10000, me_url_prefix="https://t.me/",
        caption_length_max=limits.caption_length, message_length_max=limits.message_length,
        webfile_dc_id=4,
    )


@handler("auth.ImportBotAuthorization", auth=False)
def import_bot_authorization(call: Call, q):
    bot = next((a for a in call.emu.accounts.values()
                if a.is_bot and a.bot_token == q.bot_auth_token), None)
    if bot is None:
        raise bad_request("ACCESS_TOKEN_INVALID")
    _home_dc(call, bot, "USER_MIGRATE")
    return authorization(call.emu, call, bot)


def _home_dc(call: Call, account: Account, error: str) -> None:
    """An account signs in on its home DC: elsewhere Telegram answers 303 <error>_<dc>
    (https://core.telegram.org/api/datacenter#authorization)."""
    if call.key.dc_id != account.dc_id:
        raise TelegramError(303, f"{error}_{account.dc_id}")


#: errors auth.sendCode may answer for a phone, with their codes
#: (https://core.telegram.org/method/auth.sendCode; kurigram pyrogram/errors/exceptions/all.py)
LOGIN_ERRORS = {"PHONE_NUMBER_INVALID": 400, "PHONE_NUMBER_BANNED": 400,
                "PHONE_NUMBER_FLOOD": 400, "PHONE_PASSWORD_FLOOD": 406,
                "SEND_CODE_UNAVAILABLE": 406, "UPDATE_APP_TO_LOGIN": 406}
#: how a login code can travel (https://core.telegram.org/type/auth.SentCodeType,
#: https://core.telegram.org/api/auth#sending-the-verification-code)
CODE_DELIVERIES = ("app", "sms", "call", "flash_call", "missed_call", "email", "setup_email",
                   "fragment", "sms_word", "sms_phrase", "success")
WORDS = ("ремонт", "смета", "кирпич", "окно", "крыша", "паркет", "фасад", "лестница")


def _new_code(kind: str) -> str:
    if kind == "sms_word":
        return secrets.choice(WORDS)
    if kind == "sms_phrase":
        return " ".join(secrets.choice(WORDS) for _ in range(3))
    digits = {"missed_call": 4, "email": 6}.get(kind, 5)
    return "".join(str(secrets.randbelow(10)) for _ in range(digits))


def _sent_code_type(user: Account, code: str, kind: str):
    t = raw.types.auth
    phone = user.phone or ""
    return {
        "app": lambda: t.SentCodeTypeApp(length=len(code)),
        "sms": lambda: t.SentCodeTypeSms(length=len(code)),
        "call": lambda: t.SentCodeTypeCall(length=len(code)),
        # the code is the end of the number that calls
        "flash_call": lambda: t.SentCodeTypeFlashCall(pattern=f"+{phone[:-5]}*****"),
        "missed_call": lambda: t.SentCodeTypeMissedCall(prefix=f"+{phone[:-4]}",
                                                        length=len(code)),
        "email": lambda: t.SentCodeTypeEmailCode(email_pattern="i*****@example.com",
                                                 length=len(code)),
        "setup_email": lambda: t.SentCodeTypeSetUpEmailRequired(),
        "fragment": lambda: t.SentCodeTypeFragmentSms(
            url=f"https://fragment.com/number/{phone}/code", length=len(code)),
        "sms_word": lambda: t.SentCodeTypeSmsWord(),
        "sms_phrase": lambda: t.SentCodeTypeSmsPhrase(),
    }[kind]()


@handler("auth.SendCode", auth=False)
def send_code(call: Call, q):
    user = call.emu.find_phone(q.phone_number)
    if user is None or user.is_bot:
        raise bad_request("PHONE_NUMBER_INVALID")
    if user.login_error:
        raise TelegramError(LOGIN_ERRORS[user.login_error], user.login_error)
    _home_dc(call, user, "PHONE_MIGRATE")
    kind = user.code_delivery
    if kind == "success":
        # auth.sentCodeSuccess: signed in at once (https://core.telegram.org/constructor/auth.sentCodeSuccess)
        return raw.types.auth.SentCodeSuccess(
            authorization=_signed_in_or_password(call.emu, call, user))
    code = LoginCode(code=_new_code(kind), phone_code_hash=secrets.token_hex(9),
                     date=call.emu.now(), kind=kind)
    if kind != "setup_email":  # no code leaves until an e-mail address is set up
        user.login_codes.append(code)
    else:
        call.emu.setup_email_hashes.add(code.phone_code_hash)
    call.emu.notify()
    return raw.types.auth.SentCode(type=_sent_code_type(user, code.code, kind),
                                   phone_code_hash=code.phone_code_hash, timeout=60)


@handler("auth.SignIn", auth=False)
def sign_in(call: Call, q):
    emu = call.emu
    user = emu.find_phone(q.phone_number)
    if user is None:
        raise bad_request("PHONE_NUMBER_INVALID")
    if not q.phone_code_hash:
        raise bad_request("PHONE_CODE_HASH_EMPTY")
    if not q.phone_code:
        raise bad_request("PHONE_CODE_EMPTY")
    if q.phone_code_hash in emu.setup_email_hashes:
        emu.refuse("auth.signIn before the login e-mail is set up (account.sendVerifyEmailCode)")
    code = next((c for c in user.login_codes if c.phone_code_hash == q.phone_code_hash), None)
    if code is None or code.used or emu.now() - code.date > emu.limits.login_code_seconds:
        raise bad_request("PHONE_CODE_EXPIRED")
    # words and phrases (sms_word, sms_phrase) are compared as typed, case aside
    if code.code.casefold() != q.phone_code.strip().casefold():
        raise bad_request("PHONE_CODE_INVALID")
    _home_dc(call, user, "PHONE_MIGRATE")
    code.used = True
    return _signed_in_or_password(emu, call, user)


@handler("account.GetPassword", auth=False)
def get_password(call: Call, q):
    user_id = call.key.user_id or call.key.password_pending_for
    if user_id is None:
        raise TelegramError(401, "AUTH_KEY_UNREGISTERED")
    user = call.emu.accounts[user_id]
    new_algo = raw.types.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(
        salt1=secrets.token_bytes(8), salt2=secrets.token_bytes(16), g=G, p=P_BYTES)
    common = {
        "new_algo": new_algo,
        "secure_random": secrets.token_bytes(32),
        "new_secure_algo": raw.types.SecurePasswordKdfAlgoPBKDF2HMACSHA512iter100000(
            salt=secrets.token_bytes(8)),
    }
    if user.password is None:
        return raw.types.account.Password(**common)
    b, B = challenge(user.password.verifier)
    srp_id = secrets.randbits(63)
    call.emu.srp_challenges[srp_id] = SrpChallenge(user_id=user.id, b=b, B=B)
    return raw.types.account.Password(
        **common, has_password=True, srp_B=B, srp_id=srp_id, hint=user.password.hint or None,
        current_algo=raw.types.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(
            salt1=user.password.salt1, salt2=user.password.salt2, g=G, p=P_BYTES),
    )


@handler("auth.CheckPassword", auth=False)
def check_password(call: Call, q):
    emu = call.emu
    if call.key.password_pending_for is None:
        raise TelegramError(401, "AUTH_KEY_UNREGISTERED")
    srp = q.password
    if not isinstance(srp, raw.types.InputCheckPasswordSRP):
        raise bad_request("PASSWORD_HASH_INVALID")
    state = emu.srp_challenges.pop(srp.srp_id, None)
    if state is None or state.user_id != call.key.password_pending_for:
        raise bad_request("SRP_ID_INVALID")
    user = emu.accounts[state.user_id]
    pw = user.password
    if not verify(pw.verifier, state.b, state.B, srp.A, srp.M1, pw.salt1, pw.salt2):
        raise bad_request("PASSWORD_HASH_INVALID")
    return authorization(emu, call, user)


@handler("auth.ExportLoginToken", auth=False)
def export_login_token(call: Call, q):
    emu = call.emu
    current = emu.login_tokens.get(call.key.login_token or b"")
    if current is not None and current.accepted_by is not None:
        user = emu.accounts[current.accepted_by]
        if user.dc_id != call.key.dc_id:
            # https://core.telegram.org/api/qr-login: continue on the user's DC
            return raw.types.auth.LoginTokenMigrateTo(dc_id=user.dc_id, token=current.token)
        del emu.login_tokens[current.token]
        call.key.login_token = None
        return raw.types.auth.LoginTokenSuccess(
            authorization=_signed_in_or_password(emu, call, user))
    token = LoginToken(token=secrets.token_bytes(32), auth_key=call.key.key,
                       expires=emu.now() + emu.limits.login_token_seconds)
    emu.login_tokens[token.token] = token
    call.key.login_token = token.token
    return raw.types.auth.LoginToken(expires=token.expires, token=token.token)


@handler("auth.ImportLoginToken", auth=False)
def import_login_token(call: Call, q):
    """The migrated half of a QR login, on the user's own DC (https://core.telegram.org/api/qr-login)."""
    emu = call.emu
    token = emu.login_tokens.get(q.token)
    if token is None or emu.now() > token.expires + 60:
        raise bad_request("AUTH_TOKEN_EXPIRED" if token else "AUTH_TOKEN_INVALID")
    if token.accepted_by is None:
        return raw.types.auth.LoginToken(expires=token.expires, token=token.token)
    user = emu.accounts[token.accepted_by]
    if user.dc_id != call.key.dc_id:
        return raw.types.auth.LoginTokenMigrateTo(dc_id=user.dc_id, token=token.token)
    del emu.login_tokens[token.token]
    old = emu.auth_keys.get(token.auth_key)
    if old is not None:
        old.login_token = None
    return raw.types.auth.LoginTokenSuccess(authorization=_signed_in_or_password(emu, call, user))


@handler("auth.ExportAuthorization")
def export_authorization(call: Call, q):
    """Carry this account's authorization to another DC (https://core.telegram.org/method/auth.exportAuthorization)."""
    if q.dc_id not in DC_IDS or q.dc_id == call.key.dc_id:
        raise bad_request("DC_ID_INVALID")
    data = secrets.token_bytes(128)
    call.emu.exported_auths[data] = ExportedAuth(user_id=call.me.id, dc_id=q.dc_id,
                                                 expires=call.emu.now() + 300)
    return raw.types.auth.ExportedAuthorization(id=call.me.id, bytes=data)


@handler("auth.ImportAuthorization", auth=False)
def import_authorization(call: Call, q):
    """https://core.telegram.org/method/auth.importAuthorization: AUTH_BYTES_INVALID unless
    the bytes were exported for this DC and this user."""
    exported = call.emu.exported_auths.pop(q.bytes, None)
    if (exported is None or exported.user_id != q.id or exported.dc_id != call.key.dc_id
            or call.emu.now() > exported.expires):
        raise bad_request("AUTH_BYTES_INVALID")
    return authorization(call.emu, call, call.emu.accounts[exported.user_id])


def accept_login_token(emu: Server, user: Account, token_bytes: bytes) -> LoginToken:
    """A signed-in user approves a QR login (what scanning the code does)."""
    token = emu.login_tokens.get(token_bytes)
    if token is None:
        raise bad_request("AUTH_TOKEN_INVALID")
    if token.accepted_by is not None:
        raise bad_request("AUTH_TOKEN_ALREADY_ACCEPTED")
    if emu.now() > token.expires:
        raise bad_request("AUTH_TOKEN_EXPIRED")
    token.accepted_by = user.id
    emu.push_to_key(token.auth_key, raw.types.UpdateLoginToken())
    emu.notify()
    return token


@handler("auth.AcceptLoginToken")
def accept_login_token_rpc(call: Call, q):
    token = accept_login_token(call.emu, call.me, q.token)
    now = call.emu.now()
    return raw.types.Authorization(
        hash=secrets.randbits(62), device_model="Server", platform="emulator",
        system_version="1", api_id=call.emu.API_ID, app_name="SmetaBot", app_version="1",
        date_created=now, date_active=now, ip="127.0.0.1", country="", region="",
        current=None if token.auth_key != call.key.key else True)


@handler("auth.LogOut")
def log_out(call: Call, q):
    call.key.user_id = None
    return raw.types.auth.LoggedOut()


# -- updates ----------------------------------------------------------------------------


@handler("updates.GetState")
def get_state(call: Call, q):
    box = call.me.box
    return raw.types.updates.State(pts=box.pts, qts=box.qts, date=call.emu.now(), seq=0,
                                   unread_count=0)


@handler("updates.GetDifference")
def get_difference(call: Call, q):
    """What happened in this account's box after the client's pts and qts
    (https://core.telegram.org/method/updates.getDifference).

    kurigram's recover_gaps asks with qts=0 (pyrogram/methods/advanced/recover_gaps.py); the
    emulator then starts after the last qts update a session of this auth key took in.
    """
    emu, me = call.emu, call.me
    box = me.box
    since_qts = q.qts if q.qts > 0 else call.key.delivered_qts
    pending = [u for pts, u in box.log if pts > q.pts]
    queued = [entry for entry in box.qts_log if entry[0] > since_qts]
    call.key.delivered_qts = max(call.key.delivered_qts, box.qts)
    state = raw.types.updates.State(pts=box.pts, qts=box.qts, date=emu.now(), seq=0,
                                    unread_count=0)
    if not pending and not queued:
        return raw.types.updates.DifferenceEmpty(date=emu.now(), seq=0)
    messages = [u.message for u in pending if isinstance(u, raw.types.UpdateNewMessage)]
    others = [u for u in pending if not isinstance(u, raw.types.UpdateNewMessage)]
    others += [update for _, update, _, _ in queued]
    peers = {m.peer for m in box.messages.values()} | {me.id}
    peers |= {u for _, _, users, _ in queued for u in users if u in emu.accounts}
    chats = {c for _, _, _, chats in queued for c in chats if c in emu.channels_by_id}
    return raw.types.updates.Difference(
        new_messages=messages, new_encrypted_messages=[], other_updates=others,
        chats=[tl.channel(me.id, emu.channels_by_id[c]) for c in chats],
        users=[tl.user(me.id, emu.accounts[p]) for p in peers], state=state)


@handler("updates.GetChannelDifference")
def get_channel_difference(call: Call, q):
    """A channel's posts, edits and deletions after the client's pts
    (https://core.telegram.org/method/updates.getChannelDifference)."""
    from .rpc_messages import channel_of

    emu, me = call.emu, call.me
    ch = channel_of(call, q.channel)
    if q.pts <= 0:
        raise bad_request("PERSISTENT_TIMESTAMP_INVALID")
    pending = [u for pts, u in ch.log if pts > q.pts][:max(q.limit, 1)]
    if not pending:
        return raw.types.updates.ChannelDifferenceEmpty(pts=ch.pts, final=True, timeout=30)
    last = next(pts for pts, u in ch.log if u is pending[-1])
    messages = [u.message for u in pending if isinstance(u, raw.types.UpdateNewChannelMessage)]
    others = [u for u in pending if not isinstance(u, raw.types.UpdateNewChannelMessage)]
    senders = {m.from_id.user_id for m in messages if getattr(m, "from_id", None)} | {me.id}
    return raw.types.updates.ChannelDifference(
        pts=last, final=last == ch.pts or None, timeout=30, new_messages=messages,
        other_updates=others, chats=[tl.channel(me.id, ch)],
        users=[tl.user(me.id, emu.accounts[u]) for u in senders if u in emu.accounts])


# -- users and bots ----------------------------------------------------------------------


@handler("users.GetFullUser")
def get_full_user(call: Call, q):
    user = resolve_user(call, q.id)
    bot_info = None
    if user.is_bot:
        bot_info = raw.types.BotInfo(user_id=user.id, description=user.bot_description,
                                     commands=user.bot_commands.get(("default", ""), []),
                                     menu_button=_menu_button(user, 0))
    full = raw.types.UserFull(
        id=user.id, settings=raw.types.PeerSettings(),
        notify_settings=raw.types.PeerNotifySettings(), common_chats_count=0,
        bot_info=bot_info)
    return raw.types.users.UserFull(full_user=full, chats=[],
                                    users=[tl.user(call.me.id, user)])


@handler("users.GetUsers")
def get_users(call: Call, q):
    found = []
    for input_user in q.id:
        try:
            found.append(tl.user(call.me.id, resolve_user(call, input_user)))
        except TelegramError:
            continue
    return found


@handler("contacts.ResolveUsername")
def resolve_username(call: Call, q):
    emu = call.emu
    account = emu.find_username(q.username)
    if account is None:
        raise bad_request("USERNAME_NOT_OCCUPIED")
    return raw.types.contacts.ResolvedPeer(peer=raw.types.PeerUser(user_id=account.id),
                                           chats=[], users=[tl.user(call.me.id, account)])


def resolve_user(call: Call, input_user) -> Account:
    """The account an InputUser/InputPeerUser names, checking its access hash."""
    emu, me = call.emu, call.me
    if isinstance(input_user, (raw.types.InputUserSelf, raw.types.InputPeerSelf)):
        return me
    user_id = getattr(input_user, "user_id", None)
    account = emu.accounts.get(user_id)
    if account is None:
        raise bad_request("USER_ID_INVALID")
    known_to_bot = me.is_bot and input_user.access_hash == 0 and account.id in (
        {m.peer for m in me.box.messages.values()}
        | {m for c in me.channels for m in emu.channels_by_id[c].members})
    # https://core.telegram.org/api/peers: access hashes are per account
    if input_user.access_hash != peer_hash(account.access_hash, me.id) and not known_to_bot:
        raise bad_request("USER_ID_INVALID")
    return account


def _scope_key(scope) -> str:
    name = type(scope).__name__.removeprefix("BotCommandScope")
    peer = getattr(scope, "peer", None)
    return f"{name}:{getattr(peer, 'user_id', getattr(peer, 'channel_id', ''))}" if peer else (
        "default" if name == "Default" else name)


@handler("bots.SetBotCommands")
def set_bot_commands(call: Call, q):
    if not call.me.is_bot:
        raise bad_request("USER_BOT_REQUIRED")
    for command in q.commands:
        if not BOT_COMMAND.match(command.command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command.description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    call.me.bot_commands[(_scope_key(q.scope), q.lang_code)] = list(q.commands)
    return True


@handler("bots.GetBotCommands")
def get_bot_commands(call: Call, q):
    if not call.me.is_bot:
        raise bad_request("USER_BOT_REQUIRED")
    return call.me.bot_commands.get((_scope_key(q.scope), q.lang_code), [])


@handler("bots.ResetBotCommands")
def reset_bot_commands(call: Call, q):
    if not call.me.is_bot:
        raise bad_request("USER_BOT_REQUIRED")
    call.me.bot_commands.pop((_scope_key(q.scope), q.lang_code), None)
    return True


# https://core.telegram.org/method/bots.setBotMenuButton (user_id inputUserEmpty: default)
def _menu_button(bot: Account, user_id: int):
    return bot.menu_buttons.get(user_id, bot.menu_buttons.get(0,
                                                             raw.types.BotMenuButtonDefault()))


def _menu_user(call: Call, input_user) -> int:
    """0 (every chat) for inputUserEmpty, or for the bot itself: kurigram's
    set_chat_menu_button() sends "me" for the default (pyrogram/methods/bots/set_chat_menu_button.py)."""
    if isinstance(input_user, raw.types.InputUserEmpty):
        return 0
    user = resolve_user(call, input_user)
    return 0 if user.id == call.me.id else user.id


@handler("bots.SetBotMenuButton")
def set_bot_menu_button(call: Call, q):
    if not call.me.is_bot:
        raise bad_request("USER_BOT_REQUIRED")
    user_id = _menu_user(call, q.user_id)
    if isinstance(q.button, raw.types.BotMenuButton):
        from .rpc_messages import check_url

        if not q.button.text:
            raise bad_request("BUTTON_TEXT_INVALID")
        check_url(q.button.url, web_app=True)
    if isinstance(q.button, raw.types.BotMenuButtonDefault):
        call.me.menu_buttons.pop(user_id, None)
    else:
        call.me.menu_buttons[user_id] = q.button
    call.emu.notify()
    return True


@handler("bots.GetBotMenuButton")
def get_bot_menu_button(call: Call, q):
    if not call.me.is_bot:
        raise bad_request("USER_BOT_REQUIRED")
    return _menu_button(call.me, _menu_user(call, q.user_id))
