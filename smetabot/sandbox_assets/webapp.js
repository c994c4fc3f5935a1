// The WebApp panel: the URL /press returned, in a frame sized like a phone or a desktop window,
// hosted the way Telegram hosts a Mini App (its postMessage events), beside the person's phone:
// scanning the login QR, the login codes Telegram sent.

import { api } from "./api.js";
import { h, icon } from "./dom.js";
import { describeError, modal, store } from "./overlays.js";

const PLATFORM = { phone: "android", desktop: "tdesktop" };
const THEME = {
  bg_color: "#ffffff", text_color: "#000000", hint_color: "#707579", link_color: "#3390ec",
  button_color: "#3390ec", button_text_color: "#ffffff", secondary_bg_color: "#f4f4f5",
  header_bg_color: "#ffffff", accent_text_color: "#3390ec", section_bg_color: "#ffffff",
  section_header_text_color: "#3390ec", subtitle_text_color: "#707579",
  destructive_text_color: "#e53935",
};
const LOGIN_URL = /tg:\/\/login\?token=[A-Za-z0-9_\-]+=*/;

let current = null;

/** The panel open now, if any. */
export function openPanel() {
  return current;
}

/**
 * Open a WebApp for ``person``. ``press(platform)`` presses its button again and resolves to
 * the ``web_app_url`` the API returned; ``replyButton`` is the reply-keyboard button's text
 * (only those WebApps may send data back to the bot, as in Telegram).
 */
export async function openWebApp({ person, title, press, replyButton = null }) {
  if (current) current.close();
  const panel = new WebAppPanel(person, title, press, replyButton);
  current = panel;
  await panel.load(store.get("webappSize", window.innerWidth < 700 ? "phone" : "desktop"));
  return panel;
}

class WebAppPanel {
  constructor(person, title, press, replyButton) {
    this.person = person;
    this.press = press;
    this.replyButton = replyButton;
    this.capturedLoginUrl = null;
    this.codes = [];
    this.onMessage = (event) => this.telegramEvent(event);
    window.addEventListener("message", this.onMessage);
    this.onKey = (e) => { if (e.key === "Escape" && !document.querySelector("dialog[open]")) this.close(); };
    document.addEventListener("keydown", this.onKey);

    const name = person.first_name;
    this.sizeButtons = {
      phone: h("button.seg", { type: "button", "aria-label": "Как на телефоне", title: "Как на телефоне: вход по номеру и коду", onclick: () => this.load("phone") }, "📱", h("span.seg-label", " Телефон")),
      desktop: h("button.seg", { type: "button", "aria-label": "Как на компьютере", title: "Как в Telegram Desktop: вход по QR-коду", onclick: () => this.load("desktop") }, "🖥", h("span.seg-label", " Компьютер")),
    };
    this.backButton = h("button.icon-btn", { type: "button", hidden: true, "aria-label": "Назад",
      onclick: () => this.post("back_button_pressed") }, icon("back"));
    this.mainButton = h("button.main-button", { type: "button", hidden: true,
      onclick: () => this.post("main_button_pressed") });
    this.frameBox = h("div.frame-box");
    this.urlLine = h("code.webapp-url");
    this.qrInput = h("input.qr-input", { type: "text", placeholder: "tg://login?token=…", spellcheck: "false",
      "aria-label": "Ссылка из QR-кода", oninput: () => { this.qrInput.dataset.typed = "1"; } });
    this.qrFound = h("small.hint");
    this.scanStatus = h("div.scan-status", { role: "status" });
    this.codeList = h("ul.code-list");
    const notes = store.person(person);
    this.el = h("div.webapp-backdrop", { onclick: (e) => { if (e.target === this.el) this.close(); } },
      h("section.webapp-window", { role: "dialog", "aria-label": `WebApp: ${title}` },
        h("header.webapp-head",
          this.backButton,
          h("div.webapp-title", h("strong", title), h("small", `SmetaBot · WebApp · ${name}`)),
          h("div.segmented", { role: "group", "aria-label": "Размер окна" }, this.sizeButtons.phone, this.sizeButtons.desktop),
          h("button.icon-btn", { type: "button", title: "Открыть заново", "aria-label": "Открыть заново",
            onclick: () => this.load(this.size) }, icon("refresh")),
          h("button.icon-btn", { type: "button", title: "Закрыть", "aria-label": "Закрыть WebApp",
            onclick: () => this.close() }, icon("close"))),
        h("div.webapp-body",
          h("div.frame-column", this.frameBox, this.urlLine),
          h("aside.phone-tools", { "aria-label": `Телефон: ${name}` },
            h("h3", `📱 Телефон: ${name}`),
            h("p.hint", person.phone ? `Номер: ${person.phone}` : "Номер не задан — вход по номеру не получится.",
              person.two_factor ? h("span", h("br"), "Облачный пароль (2FA) включён",
                notes.password ? `: «${notes.password}»` : "") : null),
            // On a phone-sized WebApp the login asks for a code: the codes come first there.
            h("div.code-tools", h("h4", "Коды входа от Telegram"), this.codeList),
            h("div.qr-tools",
              h("label.field", h("span", "QR-код со страницы входа"), this.qrInput, this.qrFound),
              h("button.btn.primary.scan-btn", { type: "button", onclick: () => this.scan() },
                icon("qr", "icon tiny"), " Сканировать QR этим телефоном"),
              this.scanStatus)))));
    this.renderCodes([]);
    document.body.append(this.el);
  }

  /** (Re)open the WebApp at ``size``: pressing the button again for that platform. */
  async load(size) {
    this.size = size;
    store.set("webappSize", size);
    for (const [key, button] of Object.entries(this.sizeButtons)) {
      button.classList.toggle("active", key === size);
      button.setAttribute("aria-pressed", String(key === size));
    }
    const win = this.el.querySelector(".webapp-window");
    win.dataset.size = size;
    win.setAttribute("aria-busy", "true"); // until the new page has loaded
    this.backButton.hidden = true;
    this.mainButton.hidden = true;
    // What the previous page showed is gone with it: its QR link must not be scanned.
    this.capturedLoginUrl = null;
    this.qrInput.value = "";
    delete this.qrInput.dataset.typed;
    this.qrFound.textContent = "";
    this.scanStatus.textContent = "";
    this.scanStatus.className = "scan-status";
    this.frame = null;
    this.frameBox.replaceChildren(h("div.frame-loading", "Открываю…"));
    const loading = (this.loading || 0) + 1;
    this.loading = loading;
    let url;
    try {
      url = await this.press(PLATFORM[size]);
    } catch (exc) {
      if (this.loading !== loading) return;
      this.frameBox.replaceChildren(h("div.frame-error", describeError(exc)));
      win.setAttribute("aria-busy", "false");
      return;
    }
    if (this.loading !== loading) return; // pressed again meanwhile: that one wins
    // A new frame each time: changing only the fragment of a src would not reload the page.
    this.frame = h("iframe.webapp-frame", { src: url, title: "WebApp",
      allow: "clipboard-write", referrerpolicy: "no-referrer" });
    this.frame.addEventListener("load", () => {
      this.hookFrame();
      if (this.loading === loading) win.setAttribute("aria-busy", "false");
    });
    this.frameBox.replaceChildren(this.frame, this.mainButton);
    this.urlLine.textContent = url.split("#")[0];
    this.urlLine.title = url;
  }

  /** Same-origin frames: notice the login QR link as the page fetches it. */
  hookFrame() {
    let win;
    try { win = this.frame.contentWindow; void win.document; } catch { return; }
    const original = win.fetch;
    if (!original || original.sandboxHooked) return;
    const panel = this;
    const hooked = async function (...args) {
      const response = await original.apply(this, args);
      try {
        const target = String(args[0] && args[0].url ? args[0].url : args[0]);
        if (target.includes("/api/login/qr/")) {
          response.clone().json().then((body) => {
            if (body && typeof body.url === "string") panel.capturedLoginUrl = body.url;
          }).catch(() => {});
        }
      } catch { /* never break the page */ }
      return response;
    };
    hooked.sandboxHooked = true;
    win.fetch = hooked;
  }

  /** The tg://login link the open login page shows, when the frame lets us look. */
  findLoginUrl() {
    let doc;
    try { doc = this.frame && this.frame.contentDocument; } catch { doc = null; }
    if (doc && doc.body) {
      for (const el of doc.querySelectorAll("*")) {
        for (const attr of el.attributes) {
          const match = attr.value.match(LOGIN_URL);
          if (match) return match[0];
        }
      }
      const match = (doc.body.textContent || "").match(LOGIN_URL);
      if (match) return match[0];
    }
    return this.capturedLoginUrl;
  }

  /** Called each polling round: fresh codes; the QR link picked up from the page. */
  refresh(codes) {
    if (codes) this.renderCodes(codes);
    const found = this.findLoginUrl();
    if (found && document.activeElement !== this.qrInput && !this.qrInput.dataset.typed) {
      this.qrInput.value = found;
      this.qrFound.textContent = "✓ взят со страницы входа";
    }
  }

  renderCodes(codes) {
    const sig = JSON.stringify(codes);
    if (sig === this.codesSig) return;
    this.codesSig = sig;
    this.codeList.replaceChildren(...(codes.length ? [...codes].reverse().map((c) => h(`li${c.used ? ".used" : ""}`,
      h("strong.code", c.code), c.used ? " — использован" : " — введите его на странице входа")) :
      [h("li.hint", "Пока нет. Код придёт сюда, когда страница входа запросит его по номеру.")]));
  }

  async scan() {
    const url = this.qrInput.value.trim() || this.findLoginUrl() || "";
    if (!url) {
      this.scanStatus.textContent = "Вставьте ссылку tg://login?token=… со страницы входа (под QR-кодом) или дождитесь, пока она загрузится.";
      this.scanStatus.className = "scan-status warn";
      return;
    }
    this.scanStatus.textContent = "Сканирую…";
    this.scanStatus.className = "scan-status";
    try {
      await api.scan(this.person.user_id, url);
      this.scanStatus.textContent = `✅ Вход подтверждён с телефона ${this.person.first_name}. Страница входа продолжит сама.`;
      this.scanStatus.className = "scan-status ok";
      delete this.qrInput.dataset.typed;
    } catch (exc) {
      this.scanStatus.textContent = describeError(exc);
      this.scanStatus.className = "scan-status warn";
    }
  }

  /** Send an event to the Mini App as Telegram's clients do. */
  post(eventType, eventData = {}) {
    if (this.frame && this.frame.contentWindow) {
      this.frame.contentWindow.postMessage(JSON.stringify({ eventType, eventData }), "*");
    }
  }

  /** Events a Mini App sends its host (telegram-web-app.js inside an iframe posts these). */
  async telegramEvent(event) {
    if (!this.frame || event.source !== this.frame.contentWindow) return;
    let message = event.data;
    try { if (typeof message === "string") message = JSON.parse(message); } catch { return; }
    if (!message || typeof message.eventType !== "string") return;
    let data = message.eventData || {};
    if (typeof data === "string") { try { data = JSON.parse(data); } catch { data = {}; } }
    switch (message.eventType) {
      case "web_app_request_theme":
        this.post("theme_changed", { theme_params: THEME });
        break;
      case "web_app_request_viewport":
        this.post("viewport_changed", { height: this.frame.clientHeight, is_expanded: true, is_state_stable: true });
        break;
      case "web_app_close":
        this.close();
        break;
      case "web_app_data_send":
        if (this.replyButton) {
          try {
            await api.webAppData(this.person.user_id, this.replyButton, String(data.data || ""));
          } catch (exc) {
            this.scanStatus.textContent = describeError(exc);
          }
        }
        this.close();
        break;
      case "web_app_open_link":
        if (data.url) window.open(data.url, "_blank", "noopener");
        break;
      case "web_app_setup_main_button": {
        const b = this.mainButton;
        b.hidden = !data.is_visible || !data.text;
        b.textContent = data.is_progress_visible ? "…" : (data.text || "");
        b.disabled = data.is_active === false;
        if (data.color) b.style.background = data.color;
        if (data.text_color) b.style.color = data.text_color;
        break;
      }
      case "web_app_setup_back_button":
        this.backButton.hidden = !data.is_visible;
        break;
      case "web_app_open_popup": {
        const buttons = (data.buttons || [{ id: "", type: "close" }]).map((b) => ({
          id: b.id, type: b.type, text: b.text || ({ ok: "OK", close: "Закрыть", cancel: "Отмена" }[b.type] || "OK"),
        }));
        const pressed = await modal(data.title, data.message, buttons);
        this.post("popup_closed", pressed === null ? {} : { button_id: pressed });
        break;
      }
      default:
        break; // ready, expand, header colours, haptics: nothing to show here
    }
  }

  close() {
    window.removeEventListener("message", this.onMessage);
    document.removeEventListener("keydown", this.onKey);
    this.el.remove();
    if (current === this) current = null;
  }
}
