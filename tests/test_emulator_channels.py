"""The Telegram emulator with real pyrogram clients: a contractor's channel and its bot."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pyrogram import Client, enums, errors, raw
from pyrogram.types import ChatPrivileges, InputMediaDocument

from smetabot.telegram.emulator import Emulator, TelegramError
from smetabot.telegram.emulator.rpc_channels import create_channel
from tests.helpers import run

BOT_RIGHTS = ChatPrivileges(can_post_messages=True, can_edit_messages=True,
                            can_delete_messages=True, can_invite_users=True,
                            can_manage_chat=True)


pytestmark = pytest.mark.usefixtures("no_sockets")



def named(data: bytes, name: str) -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


def jpeg() -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (400, 400), "orange").save(out, "JPEG")
    out.seek(0)
    out.name = "avatar.jpg"
    return out


async def setup_world(emu: Emulator, rights: ChatPrivileges = BOT_RIGHTS):
    """The bot, a contractor's user client, and a protected channel with the bot as admin."""
    bot = emu.attach(Client("bot", bot_token=emu.create_bot("smetabot"), in_memory=True))
    member_updates = []

    @bot.on_chat_member_updated()
    async def on_member(client, update):
        member_updates.append(update)

    await bot.start()
    contractor = emu.create_user("Иван", username="ivan", phone="+79990000001")
    user = emu.attach(Client("ivan", session_string=emu.session_string(contractor)))
    await user.start()
    channel = await user.create_channel("Ремонт на Ленина, 5", "Смета и документы")
    await user.set_chat_protected_content(channel.id, True)
    await user.promote_chat_member(channel.id, "smetabot", rights)
    await emu.settle()  # the bot took in the update that made it admin (and the channel's hash)
    return bot, user, contractor, channel, member_updates


def test_contractor_sets_up_protected_channel_with_bot_admin():
    async def main():
        emu = Emulator()
        bot, user, contractor, channel, updates = await setup_world(emu)
        await user.set_chat_photo(channel.id, photo=jpeg())
        info = emu.channel(channel.id)
        assert info["title"] == "Ремонт на Ленина, 5" and info["noforwards"] is True
        assert info["owner_id"] == contractor and info["photo"] is not None
        assert info["admins"] == [{"user_id": emu.bot.id, "is_bot": True, "rights": [
            "delete_messages", "edit_messages", "invite_users", "other", "post_messages"]}]
        assert set(info["members"]) == {contractor, emu.bot.id}
        # The bot learnt it was promoted (my_chat_member) and sees the channel as Telegram shows it.
        mine = await emu.wait_until(lambda: updates)
        assert mine[0].new_chat_member.user.id == emu.bot.id
        assert mine[0].new_chat_member.status == enums.ChatMemberStatus.ADMINISTRATOR
        assert mine[0].new_chat_member.privileges.can_post_messages
        chat = await bot.get_chat(channel.id)
        assert chat.has_protected_content and chat.type == enums.ChatType.CHANNEL
        # The same toggle twice is refused, as Telegram does.
        with pytest.raises(errors.ChatNotModified):
            await user.set_chat_protected_content(channel.id, True)
        await user.stop()
        await bot.stop()

    run(main())


def test_client_joins_through_invite_link_and_bot_learns_which_link():
    async def main():
        emu = Emulator()
        bot, user, _, channel, updates = await setup_world(emu)
        link = await bot.create_chat_invite_link(channel.id, name="Клиент Пётр")
        client = emu.create_user("Пётр")
        joined = await emu.user_join(client, link.invite_link)
        assert joined == channel.id
        update = (await emu.wait_until(
            lambda: [u for u in updates if u.new_chat_member.user.id == client]))[0]
        assert update.new_chat_member.status == enums.ChatMemberStatus.MEMBER
        assert update.invite_link.invite_link == link.invite_link
        assert update.invite_link.name == "Клиент Пётр"
        with pytest.raises(TelegramError, match="USER_ALREADY_PARTICIPANT"):
            await emu.user_join(client, link.invite_link)
        # A revoked link lets nobody in.
        await bot.revoke_chat_invite_link(channel.id, link.invite_link)
        with pytest.raises(TelegramError, match="406 INVITE_HASH_EXPIRED"):
            await emu.user_join(emu.create_user("Late"), link.invite_link)
        # A link with a member limit stops at it.
        once = await bot.create_chat_invite_link(channel.id, member_limit=1)
        await emu.user_join(emu.create_user("First"), once.invite_link)
        with pytest.raises(TelegramError, match="INVITE_HASH_EXPIRED"):
            await emu.user_join(emu.create_user("Second"), once.invite_link)
        info = emu.channel(channel.id)
        assert [i["usage"] for i in info["invite_links"]] == [1, 1]
        assert info["invite_links"][0]["revoked"] is True
        # A user client joins through a link as well.
        third = emu.create_user("Third")
        third_client = emu.attach(Client("third", session_string=emu.session_string(third)))
        await third_client.start()
        fresh = await bot.create_chat_invite_link(channel.id)
        result = await third_client.join_chat(fresh.invite_link)
        assert result.chat.id == channel.id and third in emu.channel(channel.id)["members"]
        await third_client.stop()
        await user.stop()
        await bot.stop()

    run(main())


def test_bot_posts_protected_album_and_owner_reads_views():
    async def main():
        emu = Emulator()
        bot, user, _, channel, _ = await setup_world(emu)
        posted = await bot.send_media_group(channel.id, [
            InputMediaDocument(named(b"page-%d" % i, f"page-{i}.png"),
                               caption="Смета №1" if i == 0 else "") for i in range(3)],
            protect_content=True)
        assert len({m.media_group_id for m in posted}) == 1
        viewer = emu.create_user("Пётр")
        link = await bot.create_chat_invite_link(channel.id)
        await emu.user_join(viewer, link.invite_link)
        seen = await emu.user_view_channel(viewer, channel.id)
        assert [p["views"] for p in seen] == [1, 1, 1]
        assert seen[0]["caption"] == "Смета №1" and all(p["protected"] for p in seen)
        assert emu.file_bytes(seen[2]["media"]["file_id"]) == b"page-2"
        ids = [m.id for m in posted]
        views = await user.invoke(raw.functions.messages.GetMessagesViews(
            peer=await user.resolve_peer(channel.id), id=ids, increment=False))
        assert [v.views for v in views.views] == [1, 1, 1]
        # Bots cannot read view counters.
        with pytest.raises(errors.BotMethodInvalid):
            await bot.invoke(raw.functions.messages.GetMessagesViews(
                peer=await bot.resolve_peer(channel.id), id=ids, increment=False))
        # Edits of a post are visible to everyone.
        await bot.edit_message_caption(channel.id, ids[0], "Смета №1 (исправлено)")
        assert emu.channel(channel.id)["posts"][0]["caption"] == "Смета №1 (исправлено)"
        await bot.delete_messages(channel.id, ids[1:])
        assert [p["id"] for p in emu.channel(channel.id)["posts"]] == ids[:1]
        await user.stop()
        await bot.stop()

    run(main())


def test_bot_lacking_a_right_gets_chat_admin_required():
    async def main():
        emu = Emulator()
        only_post = ChatPrivileges(can_post_messages=True)
        bot, user, _, channel, _ = await setup_world(emu, only_post)
        await bot.send_message(channel.id, "Здравствуйте")
        with pytest.raises(errors.ChatAdminRequired):
            await bot.create_chat_invite_link(channel.id)
        await user.promote_chat_member(channel.id, "smetabot", ChatPrivileges(
            can_invite_users=True))
        with pytest.raises(errors.ChatAdminRequired):
            await bot.send_message(channel.id, "no longer allowed to post")
        await user.stop()
        await bot.stop()

    run(main())


def test_fresh_session_admin_change_can_be_refused():
    async def main():
        emu = Emulator()
        emu.inject_error("channels.EditAdmin", 400, "FRESH_CHANGE_ADMINS_FORBIDDEN")
        with pytest.raises(errors.FreshChangeAdminsForbidden):
            await setup_world(emu)
        assert len(emu.channels()) == 1 and emu.channels()[0]["admins"] == []
        for session in list(emu.sessions):
            await session.client.stop()

    run(main())


def test_a_user_is_in_at_most_500_channels():
    async def main():
        emu = Emulator()
        owner = emu.create_user("Busy")
        for i in range(499):
            create_channel(emu, emu.accounts[owner], f"c{i}")
        user = emu.attach(Client("busy", session_string=emu.session_string(owner)))
        await user.start()
        await user.create_channel("the 500th")
        with pytest.raises(errors.ChannelsTooMuch):
            await user.create_channel("one too many")
        await user.stop()

    run(main())


def test_ids_are_real_sized():
    async def main():
        emu = Emulator()
        bot, user, contractor, channel, _ = await setup_world(emu)
        assert contractor >= 5_000_000_000 and emu.bot.id >= 5_000_000_000
        assert str(channel.id).startswith("-100") and len(str(channel.id)) == 14
        assert -channel.id - 1_000_000_000_000 > 2**31
        # Both clients work with those ids: the bot posts, the owner reads it back.
        sent = await bot.send_message(channel.id, "Смета")
        got = await user.get_messages(chat_id=channel.id, message_ids=sent.id)
        assert got.text == "Смета" and got.chat.id == channel.id
        assert emu.channel(channel.id)["id"] == channel.id
        await bot.stop()
        await user.stop()

    run(main())


def test_join_requests_wait_for_the_admins_answer():
    async def main():
        emu = Emulator()
        requests = []
        bot, user, _contractor, channel, updates = await setup_world(emu)

        @bot.on_chat_join_request()
        async def on_request(client, request):
            requests.append(request)

        link = await bot.create_chat_invite_link(channel.id, creates_join_request=True)
        first, second = emu.create_user("Пётр"), emu.create_user("Анна")
        for person in (first, second):
            with pytest.raises(TelegramError, match="INVITE_REQUEST_SENT"):
                await emu.user_join(person, link.invite_link)
        got = await emu.wait_until(lambda: len(requests) == 2 and requests)
        assert {r.from_user.id for r in got} == {first, second}
        assert got[0].invite_link.invite_link == link.invite_link
        assert [r["user_id"] for r in emu.channel(channel.id)["join_requests"]] == [first, second]
        assert first not in emu.channel(channel.id)["members"]
        await bot.approve_chat_join_request(channel.id, first)
        await bot.decline_chat_join_request(channel.id, second)
        info = emu.channel(channel.id)
        assert first in info["members"] and second not in info["members"]
        assert info["join_requests"] == []
        with pytest.raises(errors.HideRequesterMissing):  # already answered
            await bot.approve_chat_join_request(channel.id, second)
        joined = await emu.wait_until(
            lambda: [u for u in updates if u.new_chat_member and
                     u.new_chat_member.user.id == first])
        assert joined[0].from_user.id == emu.bot.id  # approved by the bot
        await bot.stop()
        await user.stop()

    run(main())


def test_members_press_callback_buttons_under_channel_posts():
    from pyrogram.types import InlineKeyboardButton, InlineKeyboardMarkup

    async def main():
        emu = Emulator()
        bot, user, _contractor, channel, _ = await setup_world(emu)

        @bot.on_callback_query()
        async def pressed(client, query):
            await query.answer(f"Спасибо, {query.from_user.first_name}!", show_alert=True)

        post = await bot.send_message(channel.id, "Смета готова", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("👍 Согласовано", callback_data="ok")]]))
        link = await bot.create_chat_invite_link(channel.id)
        client = emu.create_user("Пётр")
        await emu.user_join(client, link.invite_link)
        posts = await emu.user_view_channel(client, channel.id)
        assert posts[-1]["buttons"] == [[{"text": "👍 Согласовано", "kind": "callback"}]]
        answer = await emu.user_press_in_channel(client, channel.id, post.id, "👍 Согласовано")
        assert answer == {"text": "Спасибо, Пётр!", "alert": True, "url": None}
        assert emu.channel(channel.id)["posts"][-1]["views"] == 1  # the bot does not count
        with pytest.raises(TelegramError, match="CHANNEL_PRIVATE"):
            await emu.user_press_in_channel(emu.create_user("Чужой"), channel.id, post.id,
                                            "👍 Согласовано")
        await bot.stop()
        await user.stop()

    run(main())


def test_start_with_a_deep_link_parameter():
    async def main():
        emu = Emulator()
        bot = emu.attach(Client("bot", bot_token=emu.create_bot("smetabot"), in_memory=True))
        seen = []

        @bot.on_message()
        async def on_message(client, message):
            seen.append(message.text)

        await bot.start()
        alice = emu.create_user("Alice")
        await emu.user_start(alice, "invite-42")
        await emu.user_start(alice)
        await emu.wait_until(lambda: len(seen) == 2)
        assert seen == ["/start invite-42", "/start"]
        with pytest.raises(TelegramError, match="START_PARAM_INVALID"):
            await emu.user_start(alice, "no spaces allowed")
        await bot.stop()

    run(main())
