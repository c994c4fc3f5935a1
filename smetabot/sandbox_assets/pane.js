// One person's Telegram: who they are, their chat list (the bot, Telegram's service chat, the
// channels they are in) and the open conversation. Two panes sit side by side on wide screens.

import { api } from "./api.js";
import { avatar, h, icon } from "./dom.js";
import { BotChat } from "./chat.js";
import { ChannelView, TelegramChat } from "./channel.js";
import { serviceText } from "./messages.js";
import { popupMenu, store } from "./overlays.js";

const ROLE = { contractor: "подрядчик", client: "клиент" };

export class Pane {
  constructor(app, index) {
    this.app = app;
    this.index = index;
    this.person = null;
    this.view = null;
    this.target = null;
    this.channels = [];
    this.codes = [];
    this.previews = {};

    this.whoButton = h("button.who", { type: "button", "aria-haspopup": "menu", onclick: () => this.pickPerson() });
    this.personInfo = h("div.person-info");
    this.chatList = h("nav.chat-list", { "aria-label": "Чаты" });
    this.sidebar = h("aside.sidebar", this.whoButton, this.personInfo, this.chatList);
    this.owner = h("div.pane-owner"); // whose Telegram this is, when two panes sit side by side
    this.main = h("div.pane-main");
    // The pane is a size container: narrow, it shows the chat list or the chat, as a phone does.
    this.el = h("section.pane.view-list", { dataset: { pane: index } },
      this.owner, h("div.pane-grid", this.sidebar, this.main));
    this.renderWho();
    this.renderWelcome();
  }

  label() {
    return this.person ? this.person.first_name : `Окно ${this.index + 1}`;
  }

  /** Switch this pane to ``person`` (or to nobody), opening ``target``. */
  setPerson(person, target = "bot") {
    this.person = person;
    this.channels = [];
    this.codes = null;
    this.previews = {};
    this.view = null;
    this.target = null;
    this.renderWho();
    this.app.saveLayout();
    if (!person) { this.renderWelcome(); this.renderList(); return; }
    this.open(target);
    this.tick(0, true).catch(() => {});
  }

  renderWho() {
    const p = this.person;
    const notes = p ? store.person(p) : {};
    this.whoButton.replaceChildren(
      p ? avatar(p.first_name, p.user_id) : h("span.avatar.empty", "?"),
      h("span.who-text",
        h("strong", p ? fullName(p) : "Выберите человека"),
        h("small", p ? [notes.role ? ROLE[notes.role] : "человек", p.language_code ? ` · ${p.language_code}` : ""].join("") : "или создайте нового")),
      icon("down", "icon tiny"));
    this.owner.replaceChildren(...(p ? [avatar(p.first_name, p.user_id, "small"),
      h("span", `Telegram: ${fullName(p)}`), notes.role ? h("small", ROLE[notes.role]) : null].filter(Boolean) : []));
    this.whoButton.setAttribute("aria-label", p ? `Человек: ${fullName(p)} — сменить` : "Выбрать человека");
    this.personInfo.replaceChildren(...(p ? [
      h("span", p.username ? `@${p.username}` : `id ${p.user_id}`),
      p.phone ? h("span", p.phone) : null,
      p.two_factor ? h("span", { title: notes.password ? `Пароль: ${notes.password}` : "Облачный пароль включён" }, "🔑 2FA") : null,
    ].filter(Boolean) : []));
  }

  pickPerson(anchor = this.whoButton) {
    const people = this.app.people;
    popupMenu(anchor, "Кто в этом окне", [
      ...people.map((p) => ({
        label: `${p.user_id === (this.person && this.person.user_id) ? "✓ " : ""}${fullName(p)}`,
        hint: [ROLE[store.person(p).role], p.language_code, p.phone].filter(Boolean).join(" · "),
        action: () => this.setPerson(p),
      })),
      people.length ? null : undefined,
      { label: "➕ Новый человек…", action: () => this.app.createPerson(this) },
    ].filter((item) => item !== undefined));
  }

  renderWelcome() {
    this.main.replaceChildren(h("div.welcome",
      h("div.welcome-card",
        h("h2", "Кто вы в этой песочнице?"),
        h("p", "Создайте человека Telegram — подрядчика, который подключает аккаунт и публикует сметы, или его клиента, который их читает. Можно двоих рядом."),
        h("div.welcome-actions",
          h("button.btn.primary", { type: "button", onclick: () => this.app.createPerson(this, "contractor") }, "Создать подрядчика"),
          h("button.btn", { type: "button", onclick: () => this.app.createPerson(this, "client") }, "Создать клиента")),
        this.app.people.length ? h("p.hint", "…или ",
          h("a", { href: "#", onclick: (e) => { e.preventDefault(); this.pickPerson(e.currentTarget); } }, "выберите уже созданного"),
          ".") : null)));
    this.el.classList.replace("view-list", "view-chat"); // narrow: the welcome, not an empty list
  }

  /** "bot", "telegram" or "channel:<id>" (``post``: a post to show there). */
  open(target, post = null) {
    if (!this.person) return;
    this.target = target;
    let view;
    if (target === "telegram") {
      view = new TelegramChat(this, this.person);
      if (this.codes) view.update(this.codes);
    } else if (target.startsWith("channel:")) {
      const id = Number(target.slice(8));
      const known = this.channels.find((c) => c.id === id) || { id, title: "Канал", noforwards: false };
      view = new ChannelView(this, this.person, known);
      view.focusPost = post;
    } else {
      view = new BotChat(this, this.person);
    }
    this.view = view;
    this.main.replaceChildren(view.el);
    this.el.classList.replace("view-list", "view-chat");
    this.renderList();
    this.app.saveLayout();
    view.tick(0, true).catch(() => {});
    view.focus();
  }

  showList() {
    this.el.classList.replace("view-chat", "view-list");
  }

  setPreview(key, entry) {
    if (!entry) return;
    if (entry.service) { this.setPreviewText(key, serviceText(entry)); return; }
    const media = entry.media ? (entry.media.kind === "photo" ? "🖼 Фото" : `📎 ${entry.media.file_name || "файл"}`) : "";
    const text = entry.text || entry.caption || media;
    this.setPreviewText(key, `${entry.from === "user" ? "Вы: " : ""}${text}`);
  }

  setPreviewText(key, text) {
    const preview = text.replace(/\s+/g, " ");
    if (this.previews[key] !== preview) { this.previews[key] = preview; this.renderList(); }
  }

  renderList() {
    if (!this.person) { this.chatList.replaceChildren(); return; }
    const unused = (this.codes || []).filter((c) => !c.used).length;
    const item = (target, avatarEl, title, preview, extra) => h(`button.chat-item${this.target === target ? ".active" : ""}`, {
      type: "button", onclick: () => this.open(target), dataset: { target } },
    avatarEl, h("span.chat-text", h("strong", title, extra || null), h("small", preview || "")));
    this.chatList.replaceChildren(
      item("bot", avatar("SmetaBot", 1, "bot"), "SmetaBot", this.previews.bot || "бот"),
      item("telegram", h("span.avatar.telegram", { "aria-hidden": "true" }, "✈"), "Telegram",
        (this.codes || []).length ? `Код для входа: ${this.codes[this.codes.length - 1].code}` : "коды входа",
        unused ? h("span.badge", String(unused)) : null),
      ...this.channels.map((c) => item(`channel:${c.id}`,
        c.photo ? h("span.avatar.photo", h("img", { src: api.fileUrl(c.photo), alt: "" })) : avatar(c.title, c.id),
        c.title, `канал · публикаций: ${c.posts}`,
        c.noforwards ? h("span.lock", { title: "Защищённый контент" }, icon("lock", "icon tiny")) : null)));
  }

  /** One polling round for this pane: the open conversation, codes, the channels list. */
  async tick(round, force = false) {
    if (!this.person) return;
    const person = this.person;
    const jobs = [api.codes(person.user_id).then((codes) => {
      if (this.person !== person) return;
      this.app.noticeCodes(person, codes);
      const changed = JSON.stringify(codes) !== JSON.stringify(this.codes);
      this.codes = codes;
      if (changed) {
        this.renderList();
        if (this.view instanceof TelegramChat) this.view.update(codes);
      }
    })];
    if (force || round % 3 === 0 || this.channelsStale) {
      this.channelsStale = false;
      jobs.push(api.userChannels(person.user_id).then((channels) => {
        if (this.person !== person) return;
        if (JSON.stringify(channels) !== JSON.stringify(this.channels)) {
          this.channels = channels;
          this.renderList();
        }
      }));
    }
    if (this.view && !(this.view instanceof TelegramChat)) jobs.push(this.view.tick(round));
    const results = await Promise.allSettled(jobs);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  }
}

export function fullName(person) {
  return [person.first_name, person.last_name].filter(Boolean).join(" ");
}
