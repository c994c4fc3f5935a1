// Building DOM nodes, icons, and the text helpers the chat views share.

/** h("div.cls#id", {attr: v, onclick: fn}, ...children) → an element. */
export function h(tag, attrs, ...children) {
  const [, name, rest] = tag.match(/^([a-z0-9-]+)(.*)$/i);
  const el = document.createElement(name);
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "html") el.innerHTML = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value") el.value = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

const PATHS = {
  send: "M2.01 21 23 12 2.01 3 2 10l15 2-15 2z",
  attach: "M16.5 6v11.5c0 2.21-1.79 4-4 4s-4-1.79-4-4V5a2.5 2.5 0 0 1 5 0v10.5c0 .55-.45 1-1 1s-1-.45-1-1V6H10v9.5a2.5 2.5 0 0 0 5 0V5c0-2.21-1.79-4-4-4S7 2.79 7 5v12.5c0 3.04 2.46 5.5 5.5 5.5s5.5-2.46 5.5-5.5V6h-1.5z",
  close: "M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z",
  back: "M20 11H7.83l5.59-5.59L12 4l-8 8 8 8 1.41-1.41L7.83 13H20v-2z",
  keyboard: "M20 5H4c-1.1 0-1.99.9-1.99 2L2 17c0 1.1.9 2 2 2h16c1.1 0 2-.9 2-2V7c0-1.1-.9-2-2-2zm-9 3h2v2h-2V8zm0 3h2v2h-2v-2zM8 8h2v2H8V8zm0 3h2v2H8v-2zm-1 2H5v-2h2v2zm0-3H5V8h2v2zm9 7H8v-2h8v2zm0-4h-2v-2h2v2zm0-3h-2V8h2v2zm3 3h-2v-2h2v2zm0-3h-2V8h2v2z",
  lock: "M18 8h-1V6c0-2.76-2.24-5-5-5S7 3.24 7 6v2H6c-1.1 0-2 .9-2 2v10c0 1.1.9 2 2 2h12c1.1 0 2-.9 2-2V10c0-1.1-.9-2-2-2zm-6 9c-1.1 0-2-.9-2-2s.9-2 2-2 2 .9 2 2-.9 2-2 2zm3.1-9H8.9V6c0-1.71 1.39-3.1 3.1-3.1 1.71 0 3.1 1.39 3.1 3.1v2z",
  eye: "M12 4.5C7 4.5 2.73 7.61 1 12c1.73 4.39 6 7.5 11 7.5s9.27-3.11 11-7.5c-1.73-4.39-6-7.5-11-7.5zM12 17c-2.76 0-5-2.24-5-5s2.24-5 5-5 5 2.24 5 5-2.24 5-5 5zm0-8c-1.66 0-3 1.34-3 3s1.34 3 3 3 3-1.34 3-3-1.34-3-3-3z",
  file: "M6 2c-1.1 0-1.99.9-1.99 2L4 20c0 1.1.89 2 1.99 2H18c1.1 0 2-.9 2-2V8l-6-6H6zm7 7V3.5L18.5 9H13z",
  open: "M19 19H5V5h7V3H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14c1.1 0 2-.9 2-2v-7h-2v7zM14 3v2h3.59l-9.83 9.83 1.41 1.41L19 6.41V10h2V3h-7z",
  qr: "M4 4h6v2H6v4H4V4zm10 0h6v6h-2V6h-4V4zM4 14h2v4h4v2H4v-6zm14 0h2v6h-6v-2h4v-4zM7 11h10v2H7z",
  refresh: "M17.65 6.35A7.96 7.96 0 0 0 12 4a8 8 0 1 0 7.73 10h-2.08A6 6 0 1 1 12 6c1.66 0 3.14.69 4.22 1.78L13 11h7V4l-2.35 2.35z",
  addPerson: "M15 12c2.21 0 4-1.79 4-4s-1.79-4-4-4-4 1.79-4 4 1.79 4 4 4zm-9-2V7H4v3H1v2h3v3h2v-3h3v-2H6zm9 4c-2.67 0-8 1.34-8 4v2h16v-2c0-2.66-5.33-4-8-4z",
  columns: "M10 18h5V5h-5v13zm-6 0h5V5H4v13zM16 5v13h5V5h-5z",
  down: "M7.41 8.59 12 13.17l4.59-4.58L18 10l-6 6-6-6 1.41-1.41z",
  download: "M19 9h-4V3H9v6H5l7 7 7-7zM5 18v2h14v-2H5z",
};

/** An inline SVG icon by name. */
export function icon(name, cls = "icon") {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", PATHS[name]);
  svg.append(path);
  return svg;
}

const AVATAR_COLORS = ["#e17076", "#faa774", "#a695e7", "#7bc862", "#6ec9cb", "#65aadd", "#ee7aae"];

/** A round avatar with initials, coloured by id as Telegram does. */
export function avatar(name, id, cls = "") {
  const initials = (name || "?").split(/\s+/).filter(Boolean).slice(0, 2)
    .map((word) => [...word][0]).join("").toUpperCase();
  const color = AVATAR_COLORS[Math.abs(Number(String(id).slice(-6)) || 0) % AVATAR_COLORS.length];
  return h(`span.avatar${cls ? "." + cls : ""}`, { style: `background:${color}`, "aria-hidden": "true" },
    initials || "?");
}

/** "18,3 КБ" */
export function formatSize(bytes) {
  if (bytes == null) return "";
  const units = ["Б", "КБ", "МБ", "ГБ"];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits).replace(".", ",")} ${units[unit]}`;
}

/** "14:05" for unix seconds, or "" when the API gave no date. */
export function formatTime(unix) {
  if (!unix) return "";
  return new Date(unix * 1000).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" });
}

/** "Сегодня", "Вчера", "28 ноября" (with the year when not this one) for unix seconds. */
export function formatDay(unix) {
  const date = new Date(unix * 1000);
  const today = new Date();
  const midnight = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const days = Math.round((midnight(today) - midnight(date)) / 86400000);
  if (days === 0) return "Сегодня";
  if (days === 1) return "Вчера";
  return date.toLocaleDateString("ru-RU", { day: "numeric", month: "long",
    ...(date.getFullYear() !== today.getFullYear() ? { year: "numeric" } : {}) });
}

const INVITE = /^(?:https?:\/\/)?(?:t\.me|telegram\.me)\/(?:\+|joinchat\/)[\w-]+$/i;

/** Whether ``url`` is a Telegram invite link (t.me/+… or t.me/joinchat/…). */
export function isInviteLink(url) {
  return INVITE.test(url || "");
}

/** Whether ``url`` points into Telegram (t.me, telegram.me). */
export function isTelegramLink(url) {
  return /^(?:https?:\/\/)?(?:t|telegram)\.me\//i.test(url || "");
}

const TOKENS = /https?:\/\/[^\s<>«»"]*[^\s<>«»".,;:!?)\]]|(?<![\w./])t\.me\/[^\s<>«»"]*[^\s<>«»".,;:!?)\]]|(?<![\w/])\/[a-z][a-z0-9_]{0,31}(?![\w/])/gi;

/**
 * Text as nodes: links become <a>, Telegram links and /commands become actions.
 * ``handlers`` = {telegram(link, anchor), command(text)}.
 */
export function richText(text, handlers = {}) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(TOKENS)) {
    const token = match[0];
    if (match.index > last) nodes.push(text.slice(last, match.index));
    last = match.index + token.length;
    if (token.startsWith("/") && handlers.command) {
      nodes.push(h("a.command", { href: "#", onclick: (e) => { e.preventDefault(); handlers.command(token); } }, token));
    } else if (isTelegramLink(token) && handlers.telegram) {
      // Nothing may reach Telegram: its links act inside the sandbox (join, open a channel).
      const invite = isInviteLink(token);
      const a = h(`a${invite ? ".invite" : ""}`, { href: token.startsWith("http") ? token : `https://${token}`,
        title: invite ? "Вступить по ссылке…" : null }, token);
      a.addEventListener("click", (e) => { e.preventDefault(); handlers.telegram(a.href, a); });
      nodes.push(a);
    } else if (token.startsWith("/")) {
      nodes.push(token);
    } else {
      const href = token.startsWith("http") ? token : `https://${token}`;
      nodes.push(h("a", { href, target: "_blank", rel: "noopener noreferrer" }, token));
    }
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

/** The kind of a file for its icon colour: "xls", "pdf", "doc", "img", "zip" or "". */
export function fileKind(name, mime) {
  const ext = (name || "").split(".").pop().toLowerCase();
  if (/^(xlsx?|ods|csv)$/.test(ext) || /spreadsheet|excel/.test(mime || "")) return "xls";
  if (ext === "pdf" || mime === "application/pdf") return "pdf";
  if (/^(docx?|odt|rtf)$/.test(ext) || /word|opendocument\.text/.test(mime || "")) return "doc";
  if ((mime || "").startsWith("image/")) return "img";
  if (/^(zip|rar|7z)$/.test(ext)) return "zip";
  return "";
}
