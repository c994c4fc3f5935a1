// The chat with the bot, as one person sees it: messages, the input with its attach button,
// the reply keyboard under it, and what pressing each kind of button does.

import { api } from "./api.js";
import { avatar, formatSize, h, icon, isTelegramLink } from "./dom.js";
import { chatBlock, markupKind, MessageList } from "./messages.js";
import { describeError, modal, toast, viewImages } from "./overlays.js";
import { openWebApp } from "./webapp.js";

const WINDOW = 40; // re-read the last N messages each round: edits land there
const FULL_EVERY = 10; // and the whole chat every N rounds

/** Conversation header shared by the chat views. */
export function conversationHead(pane, avatarEl, title, subtitle, ...extra) {
  return h("header.conv-head",
    h("button.icon-btn.back", { type: "button", "aria-label": "К списку чатов", onclick: () => pane.showList() }, icon("back")),
    avatarEl,
    h("div.conv-title", h("strong", title), h("small", subtitle)),
    ...extra);
}

export class BotChat {
  constructor(pane, person) {
    this.pane = pane;
    this.person = person;
    this.entries = new Map();
    this.lastId = 0;
    this.loaded = false;
    this.kbHidden = false;
    this.kbSig = null;

    this.scroller = h("div.messages", { role: "log", "aria-label": "Сообщения", "aria-live": "polite" });
    this.jump = h("button.jump", { type: "button", hidden: true, "aria-label": "К новым сообщениям",
      onclick: () => this.list.scrollToBottom(true) }, icon("down"));
    this.list = new MessageList(this.scroller, (group) => chatBlock(group, this.actions()),
      { onNewBelow: (show) => { this.jump.hidden = !show; } });
    this.empty = h("div.empty-chat", h("div.empty-card",
      h("strong", "SmetaBot"),
      h("p", "Бот публикует сметы и документы для клиентов в защищённых каналах Telegram."),
      h("button.btn.primary", { type: "button", onclick: () => this.sendText("/start") }, "Начать")));
    this.scroller.prepend(this.empty);

    this.input = h("textarea.input", { rows: 1, placeholder: "Сообщение", "aria-label": "Сообщение",
      oninput: () => this.autosize(), onkeydown: (e) => this.onKey(e) });
    this.fileInput = h("input.file-input", { type: "file", hidden: true, "aria-label": "Файл для отправки",
      onchange: () => { const [file] = this.fileInput.files; if (file) this.stage(file); this.fileInput.value = ""; } });
    this.kbToggle = h("button.icon-btn.kb-toggle", { type: "button", hidden: true, "aria-label": "Клавиатура бота",
      title: "Показать или скрыть клавиатуру бота", onclick: () => this.toggleKeyboard() }, icon("keyboard"));
    this.sendButton = h("button.icon-btn.send", { type: "submit", "aria-label": "Отправить" }, icon("send"));
    this.staging = h("div.attach-sheet", { hidden: true, role: "group", "aria-label": "Отправка файла" });
    this.keyboard = h("div.reply-kb", { hidden: true, role: "group", "aria-label": "Клавиатура бота" });
    // The bot's menu button (bots.setBotMenuButton): a web_app one opens with signed initData.
    this.menuButton = h("button.btn.menu-btn", { type: "button", hidden: true, onclick: () => this.openMenu() }, "Меню");

    this.el = h("div.conversation.bot-chat",
      conversationHead(pane, avatar("SmetaBot", 1, "bot"), "SmetaBot", `бот · вы — ${person.first_name}`),
      h("div.messages-wrap", this.scroller, this.jump),
      this.staging,
      h("form.composer", { onsubmit: (e) => { e.preventDefault(); this.submit(); } },
        this.menuButton,
        h("button.icon-btn.attach", { type: "button", "aria-label": "Прикрепить файл", title: "Документ или фото",
          onclick: () => this.fileInput.click() }, icon("attach")),
        this.fileInput, this.input, this.kbToggle, this.sendButton),
      this.keyboard);
    this.el.addEventListener("dragover", (e) => { if (e.dataTransfer.types.includes("Files")) { e.preventDefault(); this.el.classList.add("dropping"); } });
    this.el.addEventListener("dragleave", (e) => { if (e.target === this.el || !this.el.contains(e.relatedTarget)) this.el.classList.remove("dropping"); });
    this.el.addEventListener("drop", (e) => {
      this.el.classList.remove("dropping");
      const [file] = e.dataTransfer.files;
      if (file) { e.preventDefault(); this.stage(file); }
    });
  }

  /** What the messages' links and buttons do. */
  actions() {
    return {
      onPress: (entry, button, el) => this.pressInline(entry, button, el),
      telegram: (link, anchor) => this.pane.app.telegramLink(link, anchor, this.person),
      command: (text) => this.sendText(text),
      openImages: (entries, index, locked) => viewImages(entries.map((e) => ({
        url: api.fileUrl(e.media.file_id), name: e.media.file_name })), index, locked),
    };
  }

  focus() {
    if (window.matchMedia("(pointer: fine)").matches) this.input.focus();
  }

  /** One polling round: new messages, and edits among the recent ones (one round at a time). */
  tick(round, force = false) {
    this.queue = (this.queue || Promise.resolve()).catch(() => {}).then(() => this.read(round, force));
    return this.queue;
  }

  async read(round, force) {
    const ids = [...this.entries.keys()];
    const after = !this.loaded || round % FULL_EVERY === 0 ? 0 : Math.max(0, (ids[Math.max(0, ids.length - WINDOW)] || 1) - 1);
    const [fresh, menu] = await Promise.all([api.chat(this.person.user_id, after), api.menu(this.person.user_id)]);
    this.menu = menu && menu.kind === "web_app" ? menu : null;
    this.menuButton.hidden = !this.menu;
    if (this.menu) this.menuButton.textContent = this.menu.text;
    for (const id of ids) if (id > after) this.entries.delete(id); // deleted ones vanish
    for (const entry of fresh) this.entries.set(entry.id, entry);
    const sorted = [...this.entries.values()].sort((a, b) => a.id - b.id);
    this.entries = new Map(sorted.map((e) => [e.id, e]));
    const newest = sorted.length ? sorted[sorted.length - 1].id : 0;
    const mine = newest > this.lastId && sorted[sorted.length - 1].from === "user";
    // The bot said something new: it may have made a channel or posted in one.
    if (this.loaded && sorted.some((e) => e.id > this.lastId && e.from === "bot")) this.pane.channelsStale = true;
    this.lastId = newest;
    this.empty.hidden = sorted.length > 0;
    this.list.update(sorted, { forceBottom: force || !this.loaded || mine });
    this.loaded = true;
    this.renderKeyboard(sorted);
    if (this.pane.view === this) this.pane.setPreview("bot", sorted[sorted.length - 1]);
  }

  /**
   * The reply keyboard in force: the last one a bot message set, until one removes it. The
   * input's placeholder is the one the newest keyboard (or force-reply) asked for.
   */
  renderKeyboard(sorted) {
    let owner = null;
    let placeholder = null;
    for (const entry of sorted) {
      if (entry.from !== "bot") continue;
      const kind = markupKind(entry);
      const options = entry.keyboard_options || {};
      if (kind === "reply") { owner = entry; placeholder = options.placeholder || null; }
      else if (kind === "remove") { owner = null; placeholder = null; }
      else if (kind === "force_reply") placeholder = options.placeholder || placeholder;
    }
    this.input.placeholder = placeholder || "Сообщение";
    const sig = owner ? `${owner.id}:${JSON.stringify(owner.buttons)}` : null;
    if (sig === this.kbSig) return;
    this.kbSig = sig;
    this.kbToggle.hidden = !owner;
    if (!owner) { this.keyboard.hidden = true; this.keyboard.replaceChildren(); return; }
    this.kbHidden = false;
    this.kbToggle.classList.add("active");
    this.keyboard.hidden = false;
    this.keyboard.replaceChildren(...owner.buttons.map((row) => h("div.kb-row", row.map((button) =>
      h(`button.kb-btn.reply.${button.kind}`, { type: "button", title: button.url || null,
        onclick: (e) => this.pressReply(owner, button, e.currentTarget) },
        h("span.kb-label", button.text),
        button.kind === "web_app" ? icon("open", "icon corner") : null)))));
    if (this.list.stick) this.list.scrollToBottom();
  }

  toggleKeyboard() {
    this.kbHidden = !this.kbHidden;
    this.keyboard.hidden = this.kbHidden;
    this.kbToggle.classList.toggle("active", !this.kbHidden);
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 160)}px`;
  }

  onKey(e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.submit();
    }
  }

  async submit() {
    if (!this.staging.hidden) { this.staging.querySelector(".send-file").click(); return; }
    const text = this.input.value;
    if (!text.trim()) return;
    this.input.value = "";
    this.autosize();
    const sent = await this.sendText(text);
    if (!sent) { this.input.value = text; this.autosize(); }
  }

  async sendText(text) {
    try {
      await api.sendText(this.person.user_id, text);
    } catch (exc) {
      toast(describeError(exc), { kind: "error" });
      return false;
    }
    await this.refreshSoon(true);
    return true;
  }

  /** Read the chat now (and again shortly: the bot answers within moments). */
  async refreshSoon(force = false) {
    await this.tick(1, force).catch(() => {});
    setTimeout(() => this.tick(1).catch(() => {}), 350);
  }

  /** A file picked or dropped: ask how to send it, as Telegram does. */
  stage(file) {
    const image = /^image\/(jpeg|png|webp|gif|bmp)$/.test(file.type);
    const asPhoto = h("input", { type: "checkbox", checked: image, disabled: !image, "aria-label": "Сжать как фото" });
    const caption = h("input.caption-input", { type: "text", placeholder: "Подпись (необязательно)", "aria-label": "Подпись", maxlength: 1024 });
    const close = () => { this.staging.hidden = true; this.staging.replaceChildren(); };
    const send = async (button) => {
      button.disabled = true;
      try {
        await api.sendFile(this.person.user_id, asPhoto.checked ? "photo" : "document", file, caption.value.trim());
        close();
        await this.refreshSoon(true);
      } catch (exc) {
        button.disabled = false;
        toast(describeError(exc), { kind: "error" });
      }
    };
    this.staging.replaceChildren(
      h("div.attach-file", icon("file", "icon big"),
        h("div", h("strong.attach-name", file.name), h("small", formatSize(file.size)))),
      image ? h("label.check", asPhoto, " Как фото (сжать)") : h("span.check.hint", "Отправится как файл"),
      caption,
      h("div.attach-actions",
        h("button.btn", { type: "button", onclick: close }, "Отмена"),
        h("button.btn.primary.send-file", { type: "button", onclick: (e) => send(e.currentTarget) }, "Отправить")));
    this.staging.hidden = false;
    caption.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); send(this.staging.querySelector(".send-file")); } });
    caption.focus();
  }

  async pressReply(owner, button, el) {
    if (button.kind === "web_app") {
      await this.openWebApp(owner, button, true);
      return;
    }
    el.classList.add("loading");
    try {
      await api.press(this.person.user_id, owner.id, button.text);
      // A one-time keyboard folds away once used; its button in the input brings it back.
      if ((owner.keyboard_options || {}).one_time && !this.kbHidden) this.toggleKeyboard();
      await this.refreshSoon(true);
    } catch (exc) {
      toast(describeError(exc), { kind: "error" });
    } finally {
      el.classList.remove("loading");
    }
  }

  async openWebApp(entry, button, reply) {
    const person = this.person;
    return openWebApp({
      person, title: button.text, replyButton: reply ? button.text : null,
      press: async (platform) => (await api.press(person.user_id, entry.id, button.text, platform)).web_app_url,
    });
  }

  async openMenu() {
    const person = this.person;
    if (!this.menu) return;
    return openWebApp({
      person, title: this.menu.text, replyButton: null,
      press: async (platform) => (await api.openMenu(person.user_id, platform)).web_app_url,
    });
  }

  async pressInline(entry, button, el) {
    if (button.kind === "web_app") { await this.openWebApp(entry, button, false); return; }
    if (button.kind === "url" && button.url) { await this.openUrl(button.url, el); return; }
    if (button.kind === "copy" || button.kind === "InlineButtonTypeCopy") { await this.copy(entry, button); return; }
    el.classList.add("loading");
    let result;
    try {
      result = await api.press(this.person.user_id, entry.id, button.text);
    } catch (exc) {
      toast(describeError(exc), { kind: "error" });
      return;
    } finally {
      el.classList.remove("loading");
    }
    if (result.text && result.alert) await modal("SmetaBot", result.text);
    else if (result.text) toast(result.text);
    if (result.url) await this.openUrl(result.url, el);
    this.refreshSoon();
  }

  /** A copy_text button copies on the client; Telegram never tells the bot. */
  async copy(entry, button) {
    // The API may not say what to copy yet: then the one link in the message is the guess.
    const links = (entry.text || entry.caption || "").match(/https?:\/\/\S+|t\.me\/\S+/g) || [];
    const text = button.copy_text || (links.length === 1 ? links[0] : null);
    if (!text) { toast("Эта кнопка копирует текст, но песочница не знает какой.", { kind: "error" }); return; }
    try { await navigator.clipboard.writeText(text); } catch { /* no clipboard permission: still show it */ }
    toast(`Скопировано: ${text}`);
  }

  async openUrl(url, anchor) {
    if (isTelegramLink(url)) { this.pane.app.telegramLink(url, anchor, this.person); return; }
    const answer = await modal("Открыть ссылку?", url, [{ id: "no", text: "Отмена" }, { id: "yes", text: "Открыть" }]);
    if (answer === "yes") window.open(url, "_blank", "noopener");
  }
}

