"""Telegram access for SmetaBot.

``emulator`` is an in-process Telegram that real ``pyrogram.Client`` objects talk to in
sandbox mode and in tests: no network, Telegram's own errors and limits.
"""
