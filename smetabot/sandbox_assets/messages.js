// Messages as Telegram draws them: bubbles, media, albums, inline keyboards, service lines,
// kept in step with the API by a list that only redraws what changed.

import { api } from "./api.js";
import { fileKind, formatDay, formatSize, formatTime, h, icon, richText } from "./dom.js";

/**
 * "inline", "reply", "remove", "force_reply" or null: what a message's markup does. The API
 * says so (``keyboard``); an older server only lists the buttons, then their kinds tell.
 */
export function markupKind(entry) {
  if (entry.keyboard !== undefined) return entry.keyboard;
  const flat = (entry.buttons || []).flat();
  if (!flat.length) return null;
  // A reply keyboard holds only reply and web_app buttons; callback and url ones are inline.
  return flat.some((b) => b.kind === "callback" || b.kind === "url") ? "inline" : "reply";
}

const SERVICE = {
  MessageActionWebViewDataSent: "Данные из WebApp переданы боту",
  MessageActionChatJoinedByLink: "Вы вступили по ссылке-приглашению",
  MessageActionChatAddUser: "Участник добавлен",
  MessageActionChannelCreate: "Канал создан",
  MessageActionChatEditPhoto: "Фото канала обновлено",
  MessageActionChatEditTitle: "Название канала изменено",
  MessageActionPinMessage: "Сообщение закреплено",
};

/** What a service message says, in words. */
export function serviceText(entry) {
  if (entry.service_text) return entry.service_text;
  return SERVICE[entry.service] ||
    (entry.service || "").replace(/^MessageAction/, "").replace(/([a-z])([A-Z])/g, "$1 $2");
}

/** Consecutive entries of one album (same grouped_id) form one block; others stand alone. */
export function blocks(entries) {
  const out = [];
  for (const entry of entries) {
    const prev = out[out.length - 1];
    if (prev && entry.grouped_id && prev[0].grouped_id === entry.grouped_id &&
        prev[0].from === entry.from) prev.push(entry);
    else out.push([entry]);
  }
  return out;
}

/** Width over height of a picture, when the API knows its size (else 1). */
function ratioOf(media) {
  return media && media.width && media.height ? media.width / media.height : 1;
}

/** A mosaic cell takes its row's width in proportion to its picture's shape. */
function shape(cell, ratio) {
  const r = Math.min(Math.max(ratio || 1, 0.4), 3); // a strip or a banner stays visible
  cell.style.flex = `${r} 1 0`;
  cell.style.aspectRatio = String(r);
}

/**
 * How many pictures go in each row of an album of ``ratios`` (width/height): a wide first
 * picture gets a row of its own; then rows of two or three, never a last row of one.
 */
export function rowSizes(ratios) {
  const n = ratios.length;
  if (n <= 1) return n ? [1] : [];
  const wide = (r) => r > 1.2;
  if (n === 2) return wide(ratios[0]) && wide(ratios[1]) ? [1, 1] : [2];
  const sizes = [];
  let left = n;
  if (wide(ratios[0])) { sizes.push(1); left -= 1; }
  const per = ratios.slice(n - left).every(wide) ? 2 : 3; // landscape pages two abreast
  while (left > 0) {
    let take = Math.min(per, left);
    if (left - take === 1) take = take === 2 ? 3 : take - 1; // no lonely last picture
    sizes.push(take);
    left -= take;
  }
  return sizes;
}

function isImage(media) {
  return media && (media.kind === "photo" || (media.mime_type || "").startsWith("image/"));
}

function protectedOf(entries) {
  return entries.some((e) => e.protected || (e.media && e.media.protected));
}

/**
 * The texts under a message or album. An album whose pictures carry captions of their own
 * (the bot's page previews: "стр. 1", "стр. 2", …) shows each on its picture instead.
 */
function captionsOnImages(entries) {
  const captioned = entries.filter((e) => e.caption && isImage(e.media));
  return entries.length > 1 && captioned.length > 1;
}

function textsOf(entries) {
  const onImages = captionsOnImages(entries);
  return entries.filter((e) => !(onImages && isImage(e.media))).map((e) => e.text || e.caption)
    .filter(Boolean);
}

/** Images and files of a message or album. */
function mediaView(entries, ctx) {
  const items = entries.filter((e) => e.media);
  if (!items.length) return null;
  const images = items.filter((e) => isImage(e.media));
  const files = items.filter((e) => !isImage(e.media));
  const locked = protectedOf(entries);
  const onImages = captionsOnImages(entries);
  const parts = [];
  if (images.length) {
    const grid = h(`div.media-grid.n${Math.min(images.length, 4)}`);
    const cells = images.map((entry, index) => {
      const { width, height } = entry.media;
      const img = h("img.media-img", {
        src: api.fileUrl(entry.media.file_id), loading: "lazy", draggable: "false",
        width: width || null, height: height || null, // space kept before it loads
        alt: entry.caption || (entry.media.kind === "photo" ? "Фото" : entry.media.file_name || "Изображение"),
      });
      const open = () => ctx.openImages && ctx.openImages(images, index, locked);
      const cell = h("button.media-cell", { type: "button", onclick: open, title: "Открыть" }, img,
        onImages && entry.caption ? h("span.media-caption", entry.caption) : null);
      if (images.length > 1) {
        shape(cell, width && height ? width / height : 1);
        // Without the size from the API, the picture tells it once loaded.
        if (!(width && height)) img.addEventListener("load", () => shape(cell, img.naturalWidth / img.naturalHeight));
      }
      return cell;
    });
    // An album is a mosaic of rows, as Telegram lays it out: every picture whole, the
    // pictures of a row equally high.
    let at = 0;
    for (const size of rowSizes(images.map((e) => ratioOf(e.media)))) {
      grid.append(h("div.media-row", cells.slice(at, at + size)));
      at += size;
    }
    parts.push(grid);
    const documents = images.filter((e) => e.media.kind !== "photo");
    if (documents.length === 1) parts.push(h("div.media-name", documents[0].media.file_name || ""));
    else if (documents.length > 1) parts.push(h("div.media-name", `${documents.length} ${plural(documents.length, "страница", "страницы", "страниц")}`));
  }
  for (const entry of files) parts.push(fileRow(entry.media, locked));
  return parts;
}

function fileRow(media, locked) {
  const name = media.file_name || "file";
  const ext = name.includes(".") ? name.split(".").pop().slice(0, 4) : "";
  const badge = h(`span.file-icon.${fileKind(name, media.mime_type) || "other"}`, ext || icon("file"));
  const details = h("span.file-text", h("span.file-name", name),
    h("span.file-size", formatSize(media.size), locked ? " · сохранение запрещено" : ""));
  if (locked) return h("div.file", badge, details);
  return h("a.file", { href: api.fileUrl(media.file_id), download: name, title: "Скачать" }, badge, details);
}

function meta(entries, extra) {
  const edited = entries.some((e) => e.edited);
  const date = Math.max(0, ...entries.map((e) => e.date || 0));
  return h("span.meta",
    protectedOf(entries) ? h("span.lock", { title: "Защищённый контент: пересылка и сохранение запрещены" }, icon("lock", "icon tiny")) : null,
    extra || null,
    edited ? h("span.edited", "изменено") : null,
    date ? h("span.time", formatTime(date)) : null);
}

function inlineKeyboard(entry, ctx) {
  return h("div.inline-kb", entry.buttons.map((row) => h("div.kb-row", row.map((button) => {
    const el = h(`button.kb-btn.${button.kind}`, { type: "button", title: button.url || null },
      h("span.kb-label", button.text),
      button.kind === "url" || button.kind === "web_app" ? icon("open", "icon corner") : null);
    el.addEventListener("click", () => ctx.onPress && ctx.onPress(entry, button, el));
    return el;
  }))));
}

/** One message or album of the chat with the bot (``ctx`` carries the actions). */
export function chatBlock(entries, ctx) {
  const first = entries[0];
  if (first.service) {
    return h("div.service", { dataset: { id: first.id } }, h("span", serviceText(first)));
  }
  const out = first.from === "user";
  const text = textsOf(entries);
  const media = mediaView(entries, ctx);
  const onlyMedia = media && !text.length;
  const bubble = h(`div.bubble${media ? ".has-media" : ""}${onlyMedia ? ".only-media" : ""}`,
    media,
    text.map((t) => h("div.text", richText(t, ctx))),
    meta(entries));
  const locked = protectedOf(entries);
  const el = h(`div.msg.${out ? "out" : "in"}${locked ? ".protected" : ""}${entries.length > 1 ? ".album" : ""}`,
    { dataset: { id: first.id, ids: entries.map((e) => e.id).join(",") } }, bubble);
  if (locked) el.addEventListener("contextmenu", (e) => e.preventDefault());
  const inline = entries.find((e) => markupKind(e) === "inline");
  if (inline) el.append(inlineKeyboard(inline, ctx));
  return el;
}

/** One post or album of a channel, as a member sees it. */
export function postBlock(entries, ctx) {
  const first = entries[0];
  const text = textsOf(entries);
  const media = mediaView(entries, ctx);
  const views = Math.max(0, ...entries.map((e) => e.views || 0));
  const locked = protectedOf(entries) || ctx.channelProtected;
  const el = h(`div.msg.in.post${locked ? ".protected" : ""}`,
    { dataset: { id: first.id, ids: entries.map((e) => e.id).join(",") } },
    h(`div.bubble${media ? ".has-media" : ""}`,
      h("div.post-author", ctx.channelTitle || "Канал"),
      media,
      text.map((t) => h("div.text", richText(t, ctx))),
      meta(entries.map((e) => ({ ...e, protected: locked })),
        h("span.views", { title: "Просмотры" }, icon("eye", "icon tiny"), String(views)))));
  el.addEventListener("contextmenu", (e) => { if (locked) e.preventDefault(); });
  // Buttons under a bot's post: members press them (a callback goes to the bot that posted).
  const withButtons = entries.find((e) => e.buttons && e.buttons.length);
  if (withButtons) el.append(inlineKeyboard(withButtons, ctx));
  return el;
}

/** A message from Telegram's own service chat (login codes). */
export function telegramBlock(entries) {
  const first = entries[0];
  return h("div.msg.in", { dataset: { id: first.id } },
    h("div.bubble", h("div.post-author", "Telegram"), h("div.text", first.text), meta(entries)));
}

/** The local calendar day of unix seconds, as "YYYY-M-D" (null without a date). */
function dayOf(unix) {
  if (!unix) return null;
  const d = new Date(unix * 1000);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/** Blocks as list items, a day's chip before its first block (as Telegram draws them). */
function withDays(groups) {
  const items = [];
  let last = null;
  for (const group of groups) {
    const day = dayOf(group[0].date);
    if (day && day !== last) items.push({ key: `day:${day}`, sig: formatDay(group[0].date), day: group[0].date });
    if (day) last = day;
    items.push({ key: group.map((e) => e.id).join(","), sig: JSON.stringify(group), group });
  }
  return items;
}

function dayChip(unix) {
  return h("div.service.day", { role: "separator" }, h("span", formatDay(unix)));
}

/**
 * A scrolled list of message blocks, redrawn block by block: a block whose entries did not
 * change keeps its element (and its images), an edited one is replaced in place.
 */
export class MessageList {
  constructor(scroller, render, { onNewBelow } = {}) {
    this.scroller = scroller;
    this.render = render;
    this.onNewBelow = onNewBelow;
    this.drawn = new Map(); // key → {sig, el}
    this.list = h("div.msg-list");
    scroller.append(this.list);
    // Follow the newest message until the person scrolls up. Only an upward scroll unsticks:
    // content growing under us (images loading) must not.
    this.stick = true;
    this.lastTop = 0;
    scroller.addEventListener("scroll", () => {
      const top = scroller.scrollTop;
      if (top < this.lastTop - 2) this.stick = this.atBottom();
      else if (this.atBottom()) this.stick = true;
      this.lastTop = top;
      // The way down is offered whenever the newest messages are out of sight.
      if (this.onNewBelow) this.onNewBelow(!this.stick && !this.atBottom(160));
    });
    const follow = new ResizeObserver(() => { if (this.stick) this.scrollToBottom(); });
    follow.observe(this.list);
    follow.observe(scroller);
  }

  atBottom(slack = 80) {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < slack;
  }

  scrollToBottom(smooth = false) {
    this.stick = true;
    this.scroller.scrollTo({ top: this.scroller.scrollHeight, behavior: smooth ? "smooth" : "auto" });
    this.lastTop = this.scroller.scrollTop;
  }

  /** Show ``entries`` (oldest first); ``forceBottom`` scrolls to the newest whatever. */
  update(entries, { forceBottom = false } = {}) {
    const wasAtBottom = this.stick;
    const items = withDays(blocks(entries));
    const keep = new Set();
    let previous = null;
    let appended = false;
    let edited = [];
    for (const { key, sig, group, day } of items) {
      keep.add(key);
      let drawn = this.drawn.get(key);
      if (!drawn || drawn.sig !== sig) {
        const el = day ? dayChip(day) : this.render(group);
        if (drawn) {
          drawn.el.replaceWith(el);
          if (group && group.some((e) => e.edited)) edited.push(el);
        } else if (group) {
          appended = true;
        }
        drawn = { sig, el };
        this.drawn.set(key, drawn);
      }
      // Keep document order = id order (an album's key changes as its parts arrive).
      const want = previous ? previous.nextSibling : this.list.firstChild;
      if (want !== drawn.el) this.list.insertBefore(drawn.el, want);
      previous = drawn.el;
    }
    for (const [key, drawn] of this.drawn) {
      if (!keep.has(key)) { drawn.el.remove(); this.drawn.delete(key); }
    }
    for (const el of edited) {
      el.classList.add("flash");
      setTimeout(() => el.classList.remove("flash"), 1200);
    }
    if (forceBottom || wasAtBottom) this.scrollToBottom();
    else if (appended && this.onNewBelow) this.onNewBelow(true);
  }


  clear() {
    this.list.replaceChildren();
    this.drawn.clear();
  }
}

/** The Russian plural form for ``n``: 1 страница, 2 страницы, 5 страниц. */
export function plural(n, one, few, many) {
  const d = n % 10, dd = n % 100;
  if (d === 1 && dd !== 11) return one;
  if (d >= 2 && d <= 4 && (dd < 12 || dd > 14)) return few;
  return many;
}
