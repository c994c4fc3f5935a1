"""The collaborators the bot's conversations and the web routes use, named one by one.

The App builds them (in ``app.py``, the composition root) and hands this bundle to the bot's
router and the web server: they take what they use from it, as aiogram injects named
dependencies into handlers, and nothing of the App's lifecycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyrogram import Client

from smetabot.billing import Billing
from smetabot.channels import Channels
from smetabot.config import Config
from smetabot.contractors import Contractors
from smetabot.conversations import Conversations
from smetabot.db import Database
from smetabot.login import LoginService
from smetabot.publishing import Publishing
from smetabot.render.pipeline import RenderSettings
from smetabot.telegram.connect import Telegram
from smetabot.userclients import UserClients
from smetabot.vault import Vault


@dataclass
class Services:
    """Everything a conversation or a route may call."""

    config: Config
    settings: RenderSettings
    db: Database
    telegram: Telegram
    bot: Client
    vault: Vault
    contractors: Contractors
    conversations: Conversations
    billing: Billing
    user_clients: UserClients
    channels: Channels
    login: LoginService
    publishing: Publishing
    #: the address Telegram opens the WebApp at (known once the web server listens)
    public_url: Callable[[], str]
    #: contractors told in-process that their login succeeded (so the WebApp's sendData that
    #: follows does not produce a second message)
    announced_logins: set[int] = field(default_factory=set)
    #: events and views (smetabot/analytics.py)
    analytics: Any = None

    @property
    def sandbox(self) -> bool:
        """Whether Telegram is emulated."""
        return self.telegram.sandbox

    @property
    def emulator(self) -> Any:
        """The emulated Telegram in sandbox mode (for the sandbox's routes), else None."""
        return self.telegram.emulator

    @property
    def bot_token(self) -> str:
        """The token WebApp initData is signed with."""
        return self.telegram.bot_token
