"""The application object and its lifecycle: one asyncio process.

Start, in order: the data dir (its temp folder wiped), the database and its migrations, the
Huey consumer with its render workers, the bot client (connected to Telegram, or to the built-in
emulator in sandbox mode), the web server. Stop: once, in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from pathlib import Path
from typing import Any

from aiohttp import web
from pyrogram import Client
from pyrogram.handlers import ConnectHandler
from pyrogram.storage.storage import UpdateState

from smetabot import __version__, maintenance
from smetabot.analytics import Analytics
from smetabot.billing import Billing
from smetabot.bot import account, admin, cabinet, channels, menu, publish
from smetabot.bot import analytics as analytics_bot
from smetabot.bot import approvals as approvals_bot
from smetabot.bot.notices import Notices
from smetabot.bot.router import Router
from smetabot.channel_records import Records
from smetabot.channels import Channels
from smetabot.config import Config
from smetabot.contractors import Contractors
from smetabot.conversations import Conversations
from smetabot.datadir import DataDir
from smetabot.db import Database
from smetabot.errors import StartupError
from smetabot.login import LoginService
from smetabot.publication_records import PublicationRecords
from smetabot.publishing import Publishing
from smetabot.render import jobs
from smetabot.render.pipeline import RenderSettings, default_workers
from smetabot.render.tasks import create_huey
from smetabot.services import Services
from smetabot.telegram.connect import choose
from smetabot.userclients import UserClients
from smetabot.vault import Vault
from smetabot.views import ViewsPoller, setting

log = logging.getLogger(__name__)


class BotState:
    """The bot's session and the peers it has met, sealed in the vault between runs."""

    def __init__(self, session: str | None, peers: list[list[Any]],
                 updates: list[list[Any]] | None = None) -> None:
        self.session, self.peers = session, peers
        #: where the bot's update sequence stood (pts, qts, date, seq of its own updates)
        self.updates = updates or []
        self._saved = ""

    @classmethod
    def read(cls, vault: Vault) -> BotState:
        try:
            state = json.loads(vault.load_bot() or "{}")
        except ValueError:
            state = {}
        return cls(state.get("session"), state.get("peers", []), state.get("updates", []))

    async def restore_peers(self, bot: Client) -> None:
        """Put the saved peers (access hashes) back into the bot's storage."""
        if self.peers:
            await bot.storage.update_peers([tuple(peer) for peer in self.peers])

    async def catch_up(self, bot: Client) -> None:
        """Fetch what Telegram sent while the bot was away (messages, button presses, joins:
        updates.getDifference from the saved state, core.telegram.org/api/updates) and hand it
        to the handlers, as kurigram's recover_gaps does."""
        if not self.updates:
            return
        await bot.storage.set_update_state([UpdateState(*row) for row in self.updates])
        await self.recover(bot)

    @staticmethod
    async def recover(bot: Client) -> None:
        """updates.getDifference from the bot's own state (0: its messages, presses, joins;
        the per-channel states kurigram keeps from chat_member updates have no pts to ask
        with)."""
        try:
            messages, others = await bot.recover_gaps(0)
        except Exception:
            log.warning("could not catch up on updates missed while stopped", exc_info=True)
            return
        if messages or others:
            log.info("caught up on %s messages and %s other updates", messages, others)

    async def save(self, vault: Vault, bot: Client) -> None:
        """Seal the bot's session and peers when they changed."""
        if not bot.is_connected:
            return
        conn = bot.storage.conn
        peers = [list(row) for row in conn.execute(
            "SELECT id, access_hash, type, phone_number FROM peers")]
        updates = [list(row) for row in conn.execute(
            "SELECT id, pts, qts, date, seq FROM update_state WHERE id = 0")]
        state = json.dumps({"session": await bot.export_session_string(), "peers": peers,
                            "updates": updates})
        if state != self._saved:
            await asyncio.to_thread(vault.save_bot, state)
            self._saved = state


class App:
    """SmetaBot: builds its services and runs their start and stop (the composition root)."""

    def __init__(self, config: Config, data_dir: Path, *, host: str, port: int,
                 sandbox: bool = False, secret_key: str, public_url: str | None = None,
                 workers: int | None = None, emulator: Any = None) -> None:
        self.config = config
        self.paths = DataDir(data_dir)
        self.paths.prepare()
        self.host, self.port = host, port
        self._public_url = public_url
        self.settings = RenderSettings.from_config(config.section("render"))
        self.workers = workers or default_workers(config["render.workers"])
        self.huey = None
        self.consumer = None
        self.runner: jobs.JobRunner | None = None
        self._web: web.AppRunner | None = None
        self._tasks: list[asyncio.Task] = []
        self._jobs: set[asyncio.Task] = set()
        self.stopping = asyncio.Event()

        # The one place that chooses real Telegram or the emulator.
        self.telegram = choose(config, self.paths.root, self.paths.tmp, sandbox=sandbox,
                               emulator=emulator)
        self.db = Database(self.paths.database)
        self.vault = Vault(self.paths.sessions, secret_key)
        self._bot_state = BotState.read(self.vault)
        self.bot: Client = self.telegram.bot_client(self._bot_state.session)
        self.contractors = Contractors(self.db)
        self.analytics = Analytics(self.db)
        self.conversations = Conversations(self.db)
        self.billing = Billing(self.db, config)
        self.user_clients = UserClients(self.telegram, self.vault, self.contractors)
        # The bot's notices speak through the conversations, which need the services the
        # notices are given to: they reach them through a provider, once everything is built.
        notices = Notices(lambda: self.services)
        self.channels = Channels(Records(self.db), self.billing, self.user_clients, self.bot,
                                 float(config["channels.admin_retry_seconds"]),
                                 self.paths.root / "avatars", notify=notices.channel_setup,
                                 analytics=self.analytics,
                                 bot_met_channel=self._save_bot_state)
        self.login = LoginService(self.telegram, self.vault,
                                  on_authorized=notices.account_connected, db=self.db,
                                  config=config, user_clients=self.user_clients)
        self.publishing = Publishing(
            PublicationRecords(self.db), self.channels.records, self.billing, self.bot,
            lambda: self.runner, self.settings, self.paths.uploads,
            float(config["render.upload_ttl_hours"]), notices, self.spawn_job,
            analytics=self.analytics, sleep=self.telegram.sleep, user_clients=self.user_clients)
        self.views = ViewsPoller(
            self.db, self.user_clients, analytics_bot.ViewNotices(lambda: self.services),
            interval=setting(config, "views_interval", 300.0),
            budget=int(setting(config, "calls_per_hour", 60)), connected=self.vault.exists)
        self.services = Services(
            config=config, settings=self.settings, db=self.db, telegram=self.telegram,
            bot=self.bot, vault=self.vault, contractors=self.contractors,
            conversations=self.conversations, billing=self.billing,
            user_clients=self.user_clients, channels=self.channels, login=self.login,
            publishing=self.publishing, public_url=lambda: self.public_url,
            analytics=self.analytics)
        self.router = Router(self.services)
        for module in (menu, cabinet, account, publish, channels, admin, analytics_bot,
                       approvals_bot):
            module.register(self.router)

    async def _save_bot_state(self) -> None:
        await self._bot_state.save(self.vault, self.bot)

    @property
    def sandbox(self) -> bool:
        """Whether Telegram is emulated."""
        return self.telegram.sandbox

    @property
    def emulator(self) -> Any:
        """The emulated Telegram in sandbox mode, else None."""
        return self.telegram.emulator

    @property
    def bot_token(self) -> str:
        """The token initData is signed with."""
        return self.telegram.bot_token

    @property
    def public_url(self) -> str:
        """The address Telegram opens the WebApp at."""
        return (self._public_url or f"http://{self.host}:{self.port}").rstrip("/")

    async def start(self) -> None:
        """Bring everything up, in order; a failure stops what was started."""
        try:
            self.vault.open()
            await self.db.open()
            await self.billing.sync_plans()
            self._start_queue()
            await self.publishing.take_unfinished()  # before updates start new work
            await self._start_bot()
            await self._start_web()
        except BaseException:
            await self.stop()
            raise
        self._tasks.append(self._spawn(self._housekeeping(), "housekeeping"))
        self._tasks.append(self._spawn(self.channels.run(), "channel setup"))
        self._tasks.append(self._spawn(self.views.run(), "views poller"))
        await self.publishing.resume(self.contractors.language_of)
        await self.publishing.finish_replacements()
        log.info("SmetaBot %s serving on %s%s", __version__, self.public_url,
                 " (sandbox: Telegram is emulated)" if self.sandbox else "")

    def _start_queue(self) -> None:
        queue, workers = self.config["render.queue"], self.workers
        if queue:  # Redis: workers on other machines (`smetabot worker`), maybe some here
            from smetabot.render.tasks import create_redis_huey

            self.huey = create_redis_huey(queue)
            workers = self.config["render.serve_workers"]
        else:
            self.huey = create_huey(self.paths.queue)
        if workers:
            self._consumer_cm = jobs.embedded_consumer(self.huey, workers)
            self.consumer = self._consumer_cm.__enter__()
        self.runner = jobs.JobRunner(self.huey, self.consumer)

    async def _start_bot(self) -> None:
        # Inside the running loop: pyrogram's add_handler schedules a task on the client's loop.
        self.router.install(self.bot)
        try:
            await self.bot.start()
        except Exception as exc:
            raise StartupError(problem=maintenance.telegram_failure(
                exc, proxy=self.config["telegram.proxy"])) from exc
        unresolved = await maintenance.resolve_admin_usernames(self.config, self.bot)
        if unresolved:
            log.warning("admins.usernames: Telegram does not know %s (the bot can resolve only "
                        "people who exist and have a public username)", ", ".join(unresolved))
        await self._bot_state.restore_peers(self.bot)
        await self._bot_state.catch_up(self.bot)
        # After a dropped connection kurigram's session starts again by itself; what Telegram
        # sent meanwhile is not pushed again, it is fetched (core.telegram.org/api/updates).
        self.bot.add_handler(ConnectHandler(self._bot_reconnected))
        await self._bot_state.save(self.vault, self.bot)
        await self.router.register_commands(self.bot)

    async def _start_web(self) -> None:
        from smetabot.web import make_web_app

        self._web = web.AppRunner(make_web_app(self.services), access_log=None)
        await self._web.setup()
        site = web.TCPSite(self._web, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            raise StartupError(problem=f"cannot listen on {self.host}:{self.port}: "
                                       f"{exc.strerror}") from exc
        if self.port == 0:  # an ephemeral port (tests): learn which one we got
            self.port = site._server.sockets[0].getsockname()[1]

    async def _housekeeping(self) -> None:
        # A loop that must keep running: each round catches and logs its own failure.
        while True:
            await asyncio.sleep(5)
            try:
                if self.consumer is not None:
                    self.consumer.check_worker_health()
                await self._bot_state.save(self.vault, self.bot)
                await self.user_clients.sweep()
                await self.login.sweep()
                await self.publishing.sweep()
            except Exception:
                log.exception("housekeeping round failed")

    async def _bot_reconnected(self, bot: Client, session: Any) -> None:
        """The bot's session is up again after its connection dropped: catch up, in the
        background (the session is still finishing its start)."""
        if getattr(session, "is_media", False):
            return
        log.info("the bot's connection is back: catching up on missed updates")
        self.spawn_job(BotState.recover(bot), "catch up")

    def spawn_job(self, coro: Any, name: str) -> asyncio.Task | None:
        """Run a background job (preview, publication); its failure is logged, and a stop
        cancels it (its state in the database lets the next start resume it). While the app
        stops, nothing new starts: the next start resumes it from the database."""
        if self.stopping.is_set():
            coro.close()
            return None
        task = self._spawn(coro, name)
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)
        return task

    def _spawn(self, coro: Any, name: str) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro, name=name)

        def done(task: asyncio.Task) -> None:
            if not task.cancelled() and task.exception() is not None:
                log.error("background task %s failed", name, exc_info=task.exception())

        task.add_done_callback(done)
        return task

    async def stop(self) -> None:
        """Stop everything that was started, in reverse order."""
        self.stopping.set()
        # Again until none is left: a job may be spawned by an update meanwhile, and Python
        # 3.11's asyncio.wait_for can swallow a cancellation (fixed in 3.12).
        while running := [task for task in (*self._tasks, *self._jobs) if not task.done()]:
            for task in running:
                task.cancel()
            await asyncio.wait(running, timeout=5)
        self._tasks.clear()
        if self._web is not None:
            await self._web.cleanup()
            self._web = None
        await self.login.stop_all()
        await self.user_clients.stop_all()
        if self.bot.is_connected:
            with contextlib.suppress(Exception):
                await self._bot_state.save(self.vault, self.bot)
            with contextlib.suppress(Exception):
                await self.bot.stop()
        if self.consumer is not None:
            await asyncio.to_thread(self._consumer_cm.__exit__, None, None, None)
            self.consumer = None
        await self.analytics.close()
        await self.db.close()

    async def run_until_signal(self) -> None:
        """Serve until SIGINT or SIGTERM, then stop."""
        await self.start()
        # Installed after the Huey consumer started: its start() sets handlers of its own that
        # only its run() loop reads, and ours must be the ones in force.
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.stopping.set)
        try:
            await self.stopping.wait()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
            await self.stop()
