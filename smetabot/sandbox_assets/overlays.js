// What floats over the chats: toasts, pop-up menus, alerts, the image viewer; and the page's
// remembered choices.

import { h, icon } from "./dom.js";

const KEY = "smetabot-sandbox";

/** Choices kept across reloads in localStorage (panes, passwords typed here, sizes). */
export const store = {
  read() {
    try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch { return {}; }
  },
  get(name, fallback) {
    const value = this.read()[name];
    return value === undefined ? fallback : value;
  },
  set(name, value) {
    const all = this.read();
    all[name] = value;
    try { localStorage.setItem(KEY, JSON.stringify(all)); } catch { /* private mode: forget */ }
  },
  /**
   * Notes this page keeps about a person it created: {role, password}. Keyed by id and name:
   * a new sandbox hands out the same ids again.
   */
  person(person) {
    const notes = this.get("people", {})[person.user_id];
    return notes && notes.name === person.first_name ? notes : {};
  },
  setPerson(person, fields) {
    const people = this.get("people", {});
    people[person.user_id] = { ...this.person(person), ...fields, name: person.first_name };
    this.set("people", people);
  },
};

/** A short message at the top of the page; ``kind`` "error" paints it red. */
export function toast(content, { kind = "", timeout = 4000, title = null } = {}) {
  const box = document.getElementById("toasts");
  const el = h(`div.toast${kind ? "." + kind : ""}`, { role: kind === "error" ? "alert" : "status" },
    title ? h("strong", title) : null, h("div", content),
    h("button.toast-close", { type: "button", "aria-label": "Закрыть", onclick: () => el.remove() }, icon("close", "icon tiny")));
  box.append(el);
  if (timeout) setTimeout(() => el.remove(), timeout);
  return el;
}

/** A human line for an API failure. */
export function describeError(exc) {
  const name = exc && exc.name;
  const known = {
    MESSAGE_TOO_LONG: "Сообщение длиннее 4096 символов — Telegram его не примет.",
    MESSAGE_EMPTY: "Пустое сообщение не отправить.",
    BOT_RESPONSE_TIMEOUT: "Бот не ответил на нажатие (BOT_RESPONSE_TIMEOUT).",
    USER_ALREADY_PARTICIPANT: "Уже в канале.",
    INVITE_HASH_EXPIRED: "Ссылка-приглашение истекла или отозвана.",
    INVITE_HASH_INVALID: "Такой ссылки-приглашения нет.",
    AUTH_TOKEN_EXPIRED: "QR-код устарел: дождитесь нового и сканируйте снова.",
    AUTH_TOKEN_INVALID: "Это не ссылка из QR-кода входа (tg://login?token=…).",
    AUTH_TOKEN_ALREADY_ACCEPTED: "Этот QR-код уже подтверждён.",
    USERNAME_OCCUPIED: "Такое имя пользователя уже занято.",
    PHONE_NUMBER_OCCUPIED: "Такой номер телефона уже занят.",
    FILE_PARTS_INVALID: "Файл пустой или слишком большой для Telegram.",
    CHANNELS_TOO_MUCH: "Слишком много каналов у этого человека (лимит Telegram — 500).",
  };
  if (known[name]) return known[name];
  if (exc instanceof TypeError) return "Нет связи с сервером песочницы.";
  return `Ошибка: ${exc && exc.message ? exc.message : exc}`;
}

let openMenu = null;

function closeMenu() {
  if (openMenu) { openMenu.remove(); openMenu = null; }
}

document.addEventListener("click", (e) => {
  if (openMenu && !openMenu.contains(e.target)) closeMenu();
}, true);
document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeMenu(); });

/** A small menu under ``anchor``: items = [{label, action, hint?}] or null for a divider. */
export function popupMenu(anchor, title, items) {
  closeMenu();
  const menu = h("div.menu", { role: "menu" },
    title ? h("div.menu-title", title) : null,
    items.map((item) => item === null ? h("hr") : h("button.menu-item", {
      type: "button", role: "menuitem",
      onclick: () => { closeMenu(); item.action(); },
    }, h("span", item.label), item.hint ? h("small", item.hint) : null)));
  document.body.append(menu);
  const rect = anchor.getBoundingClientRect();
  const width = Math.min(300, window.innerWidth - 16);
  menu.style.width = `${width}px`;
  menu.style.left = `${Math.max(8, Math.min(rect.left, window.innerWidth - width - 8))}px`;
  const below = rect.bottom + 6;
  const height = menu.offsetHeight;
  menu.style.top = `${below + height < window.innerHeight ? below : Math.max(8, rect.top - height - 6)}px`;
  openMenu = menu;
  const first = menu.querySelector(".menu-item");
  if (first) first.focus();
  return menu;
}

/** A modal with text and buttons; resolves to the id of the button pressed (or null). */
export function modal(title, message, buttons = [{ id: "ok", text: "OK" }]) {
  return new Promise((resolve) => {
    const dialog = h("dialog.modal", h("h3", title || ""), h("p", message || ""),
      h("div.modal-buttons", buttons.map((b) => h(`button.btn${b.type === "destructive" ? ".danger" : b.id === buttons[buttons.length - 1].id ? ".primary" : ""}`,
        { type: "button", onclick: () => { dialog.close(); resolve(b.id); } }, b.text))));
    dialog.addEventListener("cancel", () => resolve(null));
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * Full-size pictures (a post's pages). Protected ones get no save action and a visible mark,
 * as Telegram draws them; the right-click menu is off for them.
 */
export function viewImages(sources, index, locked) {
  let at = index;
  const img = h("img.viewer-img", { draggable: "false", alt: "" });
  const counter = h("span.viewer-count");
  const save = h("a.btn.viewer-save", { download: "" }, icon("download", "icon tiny"), " Сохранить");
  const show = () => {
    const source = sources[at];
    img.src = source.url;
    img.alt = source.name || "";
    counter.textContent = sources.length > 1 ? `${at + 1} из ${sources.length}` : "";
    save.href = source.url;
    save.download = source.name || "image";
  };
  const step = (delta) => { at = (at + delta + sources.length) % sources.length; show(); };
  const close = () => { viewer.remove(); document.removeEventListener("keydown", keys); };
  const keys = (e) => {
    if (e.key === "Escape") close();
    else if (e.key === "ArrowRight") step(1);
    else if (e.key === "ArrowLeft") step(-1);
  };
  const viewer = h(`div.viewer${locked ? ".protected" : ""}`, { role: "dialog", "aria-label": "Просмотр" },
    h("div.viewer-bar",
      counter,
      locked ? h("span.protected-mark", { title: "Защищённый контент: пересылка и сохранение запрещены" },
        icon("lock", "icon tiny"), h("span", "Защищённый контент", h("span.detail", ": пересылка и сохранение запрещены")))
        : save,
      h("button.icon-btn.light", { type: "button", "aria-label": "Закрыть", onclick: close }, icon("close"))),
    h("div.viewer-stage", { onclick: (e) => { if (e.target.classList.contains("viewer-stage")) close(); } },
      sources.length > 1 ? h("button.viewer-nav.prev", { type: "button", "aria-label": "Назад", onclick: () => step(-1) }, "‹") : null,
      img,
      sources.length > 1 ? h("button.viewer-nav.next", { type: "button", "aria-label": "Дальше", onclick: () => step(1) }, "›") : null));
  if (locked) viewer.addEventListener("contextmenu", (e) => e.preventDefault());
  document.addEventListener("keydown", keys);
  document.body.append(viewer);
  show();
}
