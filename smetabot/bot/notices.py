"""What the domain reports, told to the contractor: the bot's side of the services' notices.

Channels, logins and publishing are given these at construction (``app.py``); each notice is
written by the conversation module it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable

from smetabot.bot import account, channels
from smetabot.bot.publish import PublishingNotices
from smetabot.channel_records import ClientChannel
from smetabot.services import Services


class Notices(PublishingNotices):
    """Every notice the services send: publishing's, channel set-ups' and logins'."""

    def __init__(self, services: Callable[[], Services]) -> None:
        super().__init__(services)

    async def channel_setup(self, event: str, channel: ClientChannel) -> None:
        """A channel's setup finished (or gave up) in the background."""
        await channels.announce(self.svc, event, channel)

    async def account_connected(self, user_id: int, account_name: str) -> None:
        """A login through the WebApp succeeded."""
        await account.announce_connected(self.svc, user_id, account_name)
