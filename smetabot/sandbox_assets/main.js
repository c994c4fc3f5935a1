// The sandbox page: people, one or two panes, joining channels by link, and the polling loop
// that brings updates in (about once a second, paused while the tab is hidden).

import { api, connection } from "./api.js";
import { h, isInviteLink } from "./dom.js";
import { describeError, popupMenu, store, toast } from "./overlays.js";
import { fullName, Pane } from "./pane.js";
import { openPanel } from "./webapp.js";

const POLL_MS = 1000;

class SandboxApp {
  constructor() {
    this.people = [];
    this.seenCodes = new Map(); // person id → how many codes were already announced
    this.round = 0;
    this.panesEl = document.getElementById("panes");
    this.panes = [new Pane(this, 0), new Pane(this, 1)];
    this.tabs = h("div.pane-tabs", { role: "tablist", "aria-label": "Окна" });
    this.panesEl.replaceChildren(this.tabs, ...this.panes.map((p) => p.el));
    this.active = 0;
    this.split = store.get("split", false);
    document.getElementById("new-person").addEventListener("click", () => this.createPerson(this.panes[this.active]));
    this.splitButton = document.getElementById("split");
    this.splitButton.addEventListener("click", () => this.setSplit(!this.split));
    this.panes.forEach((pane) => pane.el.addEventListener("pointerdown", () => this.focusPane(pane.index)));
    connection.listeners.add((down) => { document.getElementById("offline").hidden = !down; });
    document.addEventListener("visibilitychange", () => { if (!document.hidden) this.schedule(0); });
  }

  async start() {
    try {
      this.people = await api.users();
    } catch (exc) {
      toast(describeError(exc), { kind: "error" });
    }
    const layout = store.get("panes", []);
    this.panes.forEach((pane, i) => {
      const saved = layout[i];
      const person = saved && this.people.find((p) => p.user_id === saved.person && p.first_name === saved.name);
      if (person) pane.setPerson(person, saved.open || "bot");
      else pane.renderWelcome();
    });
    this.setSplit(this.split);
    this.schedule(POLL_MS);
  }

  saveLayout() {
    if (!this.panes) return;
    store.set("panes", this.panes.map((p) => p.person ? { person: p.person.user_id, name: p.person.first_name, open: p.target || "bot" } : null));
    this.renderTabs();
  }

  setSplit(split) {
    this.split = split;
    store.set("split", split);
    this.panesEl.classList.toggle("split", split);
    this.splitButton.setAttribute("aria-pressed", String(split));
    this.splitButton.classList.toggle("active", split);
    if (!split) this.focusPane(0);
    this.renderTabs();
  }

  focusPane(index) {
    this.active = index;
    this.panes.forEach((pane) => pane.el.classList.toggle("active", pane.index === index));
    this.renderTabs();
  }

  renderTabs() {
    if (!this.tabs) return;
    this.tabs.replaceChildren(...this.panes.map((pane) => h(`button.pane-tab${pane.index === this.active ? ".active" : ""}`, {
      type: "button", role: "tab", "aria-selected": String(pane.index === this.active),
      onclick: () => this.focusPane(pane.index) }, pane.label())));
  }

  /** The new-person dialog; the person created goes into ``pane``. */
  createPerson(pane, role = "") {
    const dialog = document.getElementById("person-dialog");
    const form = dialog.querySelector("form");
    form.reset();
    form.elements.role.value = role;
    form.elements.phone.value = `+7 9${String(Math.floor(Math.random() * 1e9)).padStart(9, "0").replace(/^(\d\d)(\d{3})(\d\d)(\d\d)$/, "$1 $2-$3-$4")}`;
    form.elements.first_name.placeholder = role === "client" ? "Мария (клиент)" : "Иван (подрядчик)";
    dialog.querySelector(".form-error").textContent = "";
    form.onsubmit = async (e) => {
      e.preventDefault();
      if (e.submitter && e.submitter.value === "cancel") { dialog.close(); return; }
      const f = form.elements;
      const fields = {
        first_name: f.first_name.value.trim(),
        language_code: f.language_code.value,
        ...(f.username.value.trim() ? { username: f.username.value.trim().replace(/^@/, "") } : {}),
        ...(f.phone.value.trim() ? { phone: f.phone.value.trim() } : {}),
        ...(f.password.value ? { password: f.password.value } : {}),
      };
      try {
        const { user_id: userId } = await api.createUser(fields);
        store.setPerson({ user_id: userId, first_name: fields.first_name },
          { role: f.role.value, ...(fields.password ? { password: fields.password } : {}) });
        this.people = await api.users();
        dialog.close();
        pane.setPerson(this.people.find((p) => p.user_id === userId));
        this.focusPane(pane.index);
      } catch (exc) {
        dialog.querySelector(".form-error").textContent = describeError(exc);
      }
    };
    dialog.showModal();
    form.elements.first_name.focus();
  }

  /** "Join as …" for an invite link: every person can tap it (the client usually). */
  joinMenu(link, anchor, sender, title = "Ссылка-приглашение в канал") {
    const others = this.people.filter((p) => !sender || p.user_id !== sender.user_id);
    const ordered = sender ? [...others, sender] : others;
    popupMenu(anchor, title, [
      ...ordered.map((p) => ({ label: `Вступить как ${fullName(p)}`, hint: store.person(p).role === "client" ? "клиент" : null, action: () => this.join(p, link) })),
      { label: "➕ Новый человек и вступить…", action: () => this.createThenJoin(link) },
      null,
      { label: "Скопировать ссылку", action: () => navigator.clipboard.writeText(link).then(() => toast("Ссылка скопирована")) },
    ]);
  }

  /** A Telegram link tapped by ``person``: an invite joins, a post link opens the channel. */
  telegramLink(url, anchor, person) {
    if (isInviteLink(url)) { this.joinMenu(url, anchor, person); return; }
    const shared = shareTarget(url);
    if (shared && isInviteLink(shared)) {
      // Telegram asks whom to send it to; here: who receives the link and taps it.
      this.joinMenu(shared, anchor, person, "Поделиться ссылкой: кто её получит и откроет?");
      return;
    }
    const post = url.match(/^(?:https?:\/\/)?(?:t|telegram)\.me\/c\/(\d+)(?:\/(\d+))?/i);
    if (post) {
      const channelId = Number(`-100${post[1]}`);
      const pane = this.panes.find((p) => p.person && p.person.user_id === person.user_id && p.channels.some((c) => c.id === channelId));
      if (pane) { pane.open(`channel:${channelId}`, post[2] ? Number(post[2]) : null); return; }
      toast("Это ссылка на пост закрытого канала: она открывается только у его участников.");
      return;
    }
    toast("Ссылки на Telegram здесь не открываются: настоящего Telegram в песочнице нет.");
  }

  createThenJoin(link) {
    const pane = this.paneFor(null);
    const before = new Set(this.people.map((p) => p.user_id));
    this.createPerson(pane, "client");
    const dialog = document.getElementById("person-dialog");
    dialog.addEventListener("close", () => {
      const created = this.people.find((p) => !before.has(p.user_id));
      if (created) this.join(created, link);
    }, { once: true });
  }

  async join(person, link) {
    let channelId;
    try {
      ({ channel_id: channelId } = await api.join(person.user_id, link));
      toast(`${person.first_name} вступил(а) в канал`);
    } catch (exc) {
      if (exc.name === "INVITE_REQUEST_SENT") {
        // As in Telegram: the link asks the channel's admins; the person waits for their answer.
        toast(`Запрос отправлен: ${person.first_name} войдёт в канал, когда подрядчик его одобрит`);
        return;
      }
      if (exc.name !== "USER_ALREADY_PARTICIPANT") { toast(describeError(exc), { kind: "error" }); return; }
      const channels = await api.channels();
      const found = channels.find((c) => c.invite_links.some((i) => i.link === link || link.endsWith(i.link.replace(/^https?:\/\//, ""))));
      if (!found) { toast(describeError(exc)); return; }
      channelId = found.id;
    }
    this.showChannel(person, channelId);
  }

  /**
   * The pane to show ``person`` in: the one showing them already, else the other one (side by
   * side on a wide screen, a second tab on a narrow one), so the first person stays at hand.
   */
  paneFor(person) {
    const shown = person && this.panes.find((p) => p.person && p.person.user_id === person.user_id && (this.split || p.index === 0));
    if (shown) return shown;
    if (!this.split) this.setSplit(true);
    return this.panes.find((p) => p.index !== this.active);
  }

  showChannel(person, channelId) {
    const pane = this.paneFor(person);
    if (!pane.person || pane.person.user_id !== person.user_id) pane.setPerson(person, `channel:${channelId}`);
    else { pane.channelsStale = true; pane.open(`channel:${channelId}`); }
    this.focusPane(pane.index);
  }

  /** New login codes pop up like Telegram's notification, wherever the person is shown. */
  noticeCodes(person, codes) {
    const seen = this.seenCodes.get(person.user_id);
    this.seenCodes.set(person.user_id, codes.length);
    this.codeNotices = this.codeNotices || new Map(); // "person:code" → its notice
    if (seen !== undefined) { // the first look finds no news
      for (const code of codes.slice(seen)) {
        this.codeNotices.set(`${person.user_id}:${code.code}`, toast(`Код для входа: ${code.code}. Никому не давайте этот код.`, { title: `✈ Telegram → ${person.first_name}`, timeout: 30000 }));
      }
    }
    // A code used to sign in has done its work: its notice no longer covers the top of a phone.
    for (const code of codes) {
      const key = `${person.user_id}:${code.code}`;
      if (code.used && this.codeNotices.has(key)) { this.codeNotices.get(key).remove(); this.codeNotices.delete(key); }
    }
  }

  schedule(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.poll(), delay);
  }

  async poll() {
    if (this.polling || document.hidden) return; // visibilitychange restarts the loop
    this.polling = true;
    this.round += 1;
    const round = this.round;
    const jobs = this.panes.filter((p) => p.index === 0 || this.split).map((p) => p.tick(round));
    if (round % 5 === 0) jobs.push(api.users().then((people) => { this.people = people; }));
    const panel = openPanel();
    if (panel) {
      const shown = this.panes.find((p) => p.person && p.person.user_id === panel.person.user_id && p.codes);
      jobs.push((shown ? Promise.resolve(shown.codes) : api.codes(panel.person.user_id)).then((codes) => {
        this.noticeCodes(panel.person, codes);
        panel.refresh(codes);
      }));
    }
    await Promise.allSettled(jobs);
    this.polling = false;
    this.schedule(POLL_MS);
  }
}

/** The link inside a t.me/share/url?url=… address, or null. */
function shareTarget(url) {
  try {
    const parsed = new URL(url);
    if (/^(t|telegram)\.me$/.test(parsed.hostname) && parsed.pathname === "/share/url") {
      return parsed.searchParams.get("url");
    }
  } catch { /* not a URL */ }
  return null;
}

const app = new SandboxApp();
window.sandbox = app; // for poking from the console
app.start();
