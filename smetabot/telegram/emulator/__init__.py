"""An in-process Telegram that real ``pyrogram.Client`` objects talk to.

    emu = Emulator()
    token = emu.create_bot("smetabot")
    bot = emu.attach(pyrogram.Client("bot", bot_token=token, in_memory=True))
    await bot.start()
    alice = emu.create_user("Alice", username="alice", language_code="ru")
    await emu.user_send_text(alice, "/start")
    reply = await emu.wait_for_bot_reply(alice)

``attach`` swaps the client's network sessions for ``EmulatorSession`` objects
(``session.py``); pyrogram's own code still builds, serializes and parses every TL object.
Modules: ``server`` (state, dispatch, delivery), ``rpc_*`` (Telegram functions),
``people`` (the user-side API), ``state``/``tl`` (what is kept, and its TL form),
``wire`` (round trips, RPC errors), ``srp`` (2FA), ``webapp`` (signed initData),
``files`` (photo recompression, thumbnail rules), ``persist`` (the sandbox's state on disk),
``testing`` (``forbid_network()`` for tests).

What it models, and the Telegram page or kurigram source behind each item: docs/telegram.md.
Knobs for tests: ``Emulator(latency=, uplink_bytes_per_s=, clock_skew=, fake_clock=)``,
``emu.sleep()``, ``emu.advance_time()``, ``emu.disconnect(client)``/``reconnect(client)``,
``inject_error``/``inject_flood_wait``, ``create_user(dc_id=)``, ``set_code_delivery``,
``set_login_error``.
"""

from .people import Emulator
from .session import EmulatorSession, attach
from .wire import TelegramError

__all__ = ["Emulator", "EmulatorSession", "TelegramError", "attach"]
