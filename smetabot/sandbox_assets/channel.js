// A channel as one member sees it (posts, pages as images, the protected-content mark, no
// forward or save actions), and Telegram's own service chat where login codes arrive.

import { api } from "./api.js";
import { avatar, h, icon } from "./dom.js";
import { conversationHead } from "./chat.js";
import { MessageList, plural, postBlock, telegramBlock } from "./messages.js";
import { describeError, modal, toast, viewImages } from "./overlays.js";

function channelAvatar(channel) {
  if (channel.photo) {
    return h("span.avatar.photo", h("img", { src: api.fileUrl(channel.photo), alt: "", draggable: "false" }));
  }
  return avatar(channel.title, channel.id);
}

export class ChannelView {
  constructor(pane, person, channel) {
    this.pane = pane;
    this.person = person;
    this.channel = channel;
    this.loaded = false;
    this.subtitle = h("small", "канал");
    this.title = h("strong", channel.title);
    this.protectedBar = h("div.protected-bar", { role: "note" },
      icon("lock", "icon tiny"),
      h("span", h("strong", "Защищённый контент:"), " пересылка и сохранение запрещены",
        h("span.en", " · Protected content: forwarding and saving disabled")));
    this.scroller = h("div.messages", { role: "log", "aria-label": `Канал ${channel.title}` });
    this.list = new MessageList(this.scroller, (group) => postBlock(group, this.actions()));
    this.emptyNote = h("div.empty-chat", h("div.empty-card", h("p", "В канале пока нет публикаций.")));
    this.scroller.prepend(this.emptyNote);
    const own = channel.owner_id === person.user_id;
    this.el = h("div.conversation.channel-view",
      h("header.conv-head",
        h("button.icon-btn.back", { type: "button", "aria-label": "К списку чатов", onclick: () => pane.showList() }, icon("back")),
        this.avatar = channelAvatar(channel),
        h("div.conv-title", this.title, this.subtitle)),
      this.protectedBar,
      h("div.messages-wrap", this.scroller),
      h("footer.channel-foot", own ? `Вы владелец канала, смотрите его как участник` : `Вы подписаны как ${person.first_name} · только чтение`));
    this.el.addEventListener("contextmenu", (e) => { if (this.isProtected) e.preventDefault(); });
    this.applyInfo(channel);
  }

  actions() {
    return {
      channelTitle: this.channel.title,
      channelProtected: this.isProtected,
      telegram: (link, anchor) => this.pane.app.telegramLink(link, anchor, this.person),
      onPress: (entry, button, el) => this.press(entry, button, el),
      openImages: (entries, index, locked) => viewImages(entries.map((e) => ({
        url: api.fileUrl(e.media.file_id), name: e.media.file_name })), index, locked || this.isProtected),
    };
  }

  async press(entry, button, el) {
    if (button.kind === "url" && button.url) { window.open(button.url, "_blank", "noopener"); return; }
    el.classList.add("loading");
    try {
      const result = await api.pressInChannel(this.person.user_id, this.channel.id, entry.id, button.text);
      if (result.text && result.alert) await modal(this.channel.title, result.text);
      else if (result.text) toast(result.text);
    } catch (exc) {
      toast(describeError(exc), { kind: "error" });
    } finally {
      el.classList.remove("loading");
    }
  }

  applyInfo(info) {
    const photo = this.channel.photo;
    this.channel = { ...this.channel, ...info };
    if (this.avatar && this.channel.photo !== photo) {
      const fresh = channelAvatar(this.channel);
      this.avatar.replaceWith(fresh);
      this.avatar = fresh;
    }
    this.isProtected = Boolean(this.channel.noforwards);
    this.protectedBar.hidden = !this.isProtected;
    this.el.classList.toggle("protected", this.isProtected);
    this.title.textContent = this.channel.title;
    const count = (info.members || []).length;
    this.subtitle.textContent = count ? `канал · ${count} ${plural(count, "участник", "участника", "участников")}` : "канал";
  }

  focus() {}

  async tick(round, force = false) {
    if (!this.loaded || round % 5 === 0) this.applyInfo(await api.channel(this.channel.id));
    // Opening the channel as this member: Telegram counts one view per person.
    const posts = await api.viewChannel(this.person.user_id, this.channel.id);
    const entries = posts.map((p) => ({ ...p, from: "channel" })).sort((a, b) => a.id - b.id);
    this.emptyNote.hidden = entries.length > 0;
    const first = !this.loaded;
    this.list.update(entries, { forceBottom: force || first });
    this.loaded = true;
    if (first && this.focusPost) this.showPost(this.focusPost);
  }

  /** Scroll to a post (a t.me/c/… link was opened) and light it up. */
  showPost(id) {
    const el = [...this.list.list.children].find((c) => (c.dataset.ids || "").split(",").includes(String(id)));
    if (!el) return;
    this.list.stick = false;
    el.scrollIntoView({ block: "center" });
    el.classList.add("flash");
    setTimeout(() => el.classList.remove("flash"), 1200);
  }
}

/** Telegram's service notifications (the chat with "Telegram", 777000): login codes. */
export class TelegramChat {
  constructor(pane, person) {
    this.pane = pane;
    this.person = person;
    this.scroller = h("div.messages", { role: "log", "aria-label": "Сообщения Telegram" });
    this.list = new MessageList(this.scroller, (group) => telegramBlock(group));
    this.emptyNote = h("div.empty-chat", h("div.empty-card",
      h("p", "Сюда Telegram присылает коды входа, когда кто-то входит в аккаунт по номеру телефона.")));
    this.scroller.prepend(this.emptyNote);
    this.el = h("div.conversation.telegram-chat",
      conversationHead(pane, h("span.avatar.telegram", { "aria-hidden": "true" }, "✈"), "Telegram", "служебные уведомления"),
      h("div.messages-wrap", this.scroller),
      h("footer.channel-foot", "Это служебный чат Telegram: ответить нельзя."));
  }

  focus() {}

  update(codes) {
    const entries = codes.map((c, i) => ({
      id: i + 1, date: c.date, from: "telegram",
      text: `Код для входа в Telegram: ${c.code}. Никому не давайте этот код, даже если его требуют от имени Telegram!${c.used ? "\n\n(код использован)" : ""}`,
    }));
    this.emptyNote.hidden = entries.length > 0;
    this.list.update(entries);
  }

  async tick() {
    this.update(await api.codes(this.person.user_id));
  }
}
