"""What the emulated Telegram remembers: accounts, message boxes, channels, files, logins."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from pyrogram import raw

DC_ID = 2  # where a new client connects first
#: Telegram's production DCs (https://core.telegram.org/api/datacenter)
DC_IDS = (1, 2, 3, 4, 5)
#: every right a ChatAdminRights can carry, in the order of the TL constructor
ADMIN_RIGHTS = tuple(
    name
    for name in raw.types.ChatAdminRights.__init__.__code__.co_varnames[1:]
    if name in raw.types.ChatAdminRights.__slots__
)


def new_access_hash() -> int:
    """A random signed 64-bit access hash, as Telegram hands out."""
    return secrets.randbits(63) - (1 << 62)


def peer_hash(secret: int, viewer_id: int | None) -> int:
    """The access hash of a user or channel as one account receives it: each account gets its
    own, and a hash is refused from any other account (https://core.telegram.org/api/peers)."""
    digest = hashlib.sha256(f"{secret}:{viewer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little", signed=True) or 1


@dataclass
class StoredFile:
    """A document or photo kept on the emulated DC."""

    id: int
    access_hash: int
    kind: str  # "document" | "photo"
    data: bytes
    name: str
    mime_type: str
    date: int
    width: int = 0
    height: int = 0
    dc_id: int = DC_ID  # files live on the DC of the account that uploaded them
    thumb: bytes | None = None  # a document's JPEG thumbnail ("m": at most 320 px)
    thumb_width: int = 0
    thumb_height: int = 0
    file_reference: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    sha256: str = ""  # names the bytes on disk when the state is kept (persist.py)
    thumb_sha256: str = ""

    def __post_init__(self) -> None:
        if not self.sha256:
            self.sha256 = hashlib.sha256(self.data).hexdigest()

    def set_thumb(self, data: bytes, width: int, height: int) -> None:
        self.thumb, self.thumb_width, self.thumb_height = data, width, height
        self.thumb_sha256 = hashlib.sha256(data).hexdigest()

    def __getstate__(self) -> dict[str, Any]:
        # Pickled without its bytes, which live once on disk by hash (persist.py).
        return {**self.__dict__, "data": b"", "thumb": None}

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def photo_size_type(self) -> str:
        side = max(self.width, self.height)
        return "m" if side <= 320 else "x" if side <= 800 else "y" if side <= 1280 else "w"


@dataclass
class Msg:
    """One message as one holder sees it: a copy in an account's box, or a channel post."""

    id: int
    peer: int  # the other user of a private chat, or the channel id
    in_channel: bool
    from_id: int | None
    date: int
    out: bool = False
    text: str = ""
    entities: list[Any] = field(default_factory=list)
    media: StoredFile | None = None
    reply_markup: Any = None
    edit_date: int | None = None
    noforwards: bool = False
    grouped_id: int | None = None
    action: Any = None
    post: bool = False
    viewers: set[int] = field(default_factory=set)
    twin: Msg | None = None  # the other participant's copy of a private message

    @property
    def views(self) -> int:
        return len(self.viewers)


@dataclass
class Box:
    """An account's own message box: private-chat message ids, pts and qts."""

    next_id: int = 1
    pts: int = 1
    qts: int = 0
    messages: dict[int, Msg] = field(default_factory=dict)
    log: list[tuple[int, Any]] = field(default_factory=list)  # (pts, update)
    qts_log: list[tuple[int, Any]] = field(default_factory=list)  # (qts, update): bots' box


@dataclass
class Password:
    """A cloud password as Telegram stores it: the SRP verifier, never the password."""

    salt1: bytes
    salt2: bytes
    verifier: int
    hint: str = ""


@dataclass
class LoginCode:
    code: str
    phone_code_hash: str
    date: int
    used: bool = False
    kind: str = "app"


@dataclass
class Account:
    """A Telegram user or bot."""

    id: int
    access_hash: int
    first_name: str
    is_bot: bool = False
    last_name: str | None = None
    username: str | None = None
    lang_code: str | None = None
    phone: str | None = None
    bot_token: str | None = None
    password: Password | None = None
    box: Box = field(default_factory=Box)
    channels: set[int] = field(default_factory=set)
    random_ids: set[int] = field(default_factory=set)
    login_codes: list[LoginCode] = field(default_factory=list)
    bot_commands: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    bot_description: str = ""
    dc_id: int = DC_ID  # the account's home DC
    code_delivery: str = "app"  # how auth.sendCode sends this user's login codes
    login_error: str | None = None  # an error auth.sendCode answers for this phone
    menu_buttons: dict[int, Any] = field(default_factory=dict)  # user id (0: everyone) -> button


@dataclass
class Admin:
    rights: set[str]
    promoted_by: int
    date: int
    rank: str = ""


@dataclass
class Member:
    date: int
    inviter_id: int | None = None
    invite_link: str | None = None


@dataclass
class Invite:
    link: str
    hash: str
    admin_id: int
    date: int
    title: str | None = None
    expire_date: int | None = None
    usage_limit: int | None = None
    usage: int = 0
    revoked: bool = False
    permanent: bool = False
    request_needed: bool = False


@dataclass
class Channel:
    """A broadcast channel."""

    id: int
    access_hash: int
    title: str
    about: str
    date: int
    owner_id: int
    photo: StoredFile | None = None
    noforwards: bool = False
    admins: dict[int, Admin] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, Msg] = field(default_factory=dict)
    invites: dict[str, Invite] = field(default_factory=dict)  # by hash
    join_requests: dict[int, tuple[str, int]] = field(default_factory=dict)  # user -> (hash, date)
    next_id: int = 1
    pts: int = 1
    log: list[tuple[int, Any]] = field(default_factory=list)  # (pts, update as a member sees it)

    def rights_of(self, user_id: int) -> set[str]:
        """The admin rights ``user_id`` holds here: all of them for the owner."""
        if user_id == self.owner_id:
            return set(ADMIN_RIGHTS)
        admin = self.admins.get(user_id)
        return set(admin.rights) if admin else set()


@dataclass
class AuthKey:
    """One authorization, keyed like Telegram's by the session's auth key."""

    key: bytes
    created: int
    dc_id: int = DC_ID  # an auth key belongs to one DC (https://core.telegram.org/api/datacenter)
    user_id: int | None = None
    password_pending_for: int | None = None  # signed in but 2FA not yet passed
    login_token: bytes | None = None
    delivered_qts: int = 0  # the last qts update a session of this key took in


@dataclass
class LoginToken:
    token: bytes
    auth_key: bytes
    expires: int
    accepted_by: int | None = None


@dataclass
class ExportedAuth:
    """auth.exportAuthorization's answer, waiting for auth.importAuthorization on ``dc_id``."""

    user_id: int
    dc_id: int
    expires: int


@dataclass
class SrpChallenge:
    user_id: int
    b: int
    B: bytes
