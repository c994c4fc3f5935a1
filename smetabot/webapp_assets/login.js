// The WebApp login page: QR on desktop, phone + code on phones, then the cloud password.
// initData comes from Telegram.WebApp when Telegram opened us, or from the URL fragment
// (#tgWebAppData=...) as Telegram passes it — which is how the sandbox opens the page.
"use strict";

(function () {
  const tg = window.Telegram && window.Telegram.WebApp;
  const fragment = new URLSearchParams(location.hash.slice(1));
  const initData = (tg && tg.initData) || fragment.get("tgWebAppData") || "";
  const platform = (tg && tg.platform) || fragment.get("tgWebAppPlatform") || "unknown";
  const mobile = ["ios", "android", "android_x"].includes(platform);
  const framed = window.parent !== window;

  // Without telegram-web-app.js (the sandbox has no network) speak Telegram's Mini App
  // protocol ourselves: to the web client hosting us in a frame, or to a mobile app's webview.
  function postEvent(eventType, eventData) {
    const data = eventData || {};
    try {
      if (window.TelegramWebviewProxy) {
        window.TelegramWebviewProxy.postEvent(eventType, JSON.stringify(data));
      } else if (window.external && "notify" in window.external) {
        window.external.notify(JSON.stringify({ eventType, eventData: data }));
      } else if (framed) {
        window.parent.postMessage(JSON.stringify({ eventType, eventData: data }), "*");
      }
    } catch (e) { /* no host to tell */ }
  }

  // The user's Telegram theme as CSS variables (what telegram-web-app.js does), so a dark-mode
  // user gets a dark page.
  function applyTheme(params) {
    if (!params || typeof params !== "object") return;
    const root = document.documentElement.style;
    Object.entries(params).forEach(([key, value]) => {
      if (typeof value === "string" && /^#[0-9a-fA-F]{3,8}$/.test(value)) {
        root.setProperty("--tg-theme-" + key.replace(/_/g, "-"), value);
      }
    });
    const bg = params.bg_color;
    if (typeof bg === "string" && /^#[0-9a-fA-F]{6}$/.test(bg)) {
      const n = parseInt(bg.slice(1), 16);
      const light = 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
      document.documentElement.style.colorScheme = light < 128 ? "dark" : "light";
      document.documentElement.dataset.scheme = light < 128 ? "dark" : "light";
    }
  }
  function fragmentTheme() {
    try { return JSON.parse(fragment.get("tgWebAppThemeParams") || "null"); } catch (e) { return null; }
  }

  let userLang = "";
  try {
    userLang = JSON.parse(new URLSearchParams(initData).get("user") || "{}").language_code || "";
  } catch (e) { userLang = ""; }
  const query = new URLSearchParams(location.search);
  const lang = (query.get("lang") || userLang || navigator.language || "ru").toLowerCase().startsWith("ru") ? "ru" : "en";

  // Every string of the page, in both languages, comes from the server (smetabot/texts.py).
  const ALL = JSON.parse(document.getElementById("page-texts").textContent);
  const T = ALL[lang];

  const $ = (id) => document.getElementById(id);
  const steps = ["qr", "phone", "code", "password", "done"];
  let qrTimer = null, pollTimer = null, expiresAt = 0, finished = false;

  function translate() {
    document.documentElement.lang = lang;
    document.title = "SmetaBot — " + T.title;
    document.querySelectorAll("[data-t]").forEach((el) => {
      const value = T[el.dataset.t];
      if (el.tagName === "OL") {
        el.replaceChildren(...value.split("\n").map((line) => {
          const li = document.createElement("li");
          li.textContent = line;
          return li;
        }));
      } else if (value) { el.textContent = value; }
    });
  }

  function show(step) {
    steps.forEach((name) => { $("step-" + name).hidden = name !== step; });
    $("error").hidden = true;
    const focus = { phone: "phone", code: "code", password: "password" }[step];
    if (focus) $(focus).focus();
  }
  function status(text) { $("status").textContent = text || ""; }
  function error(text) { $("error").textContent = text; $("error").hidden = !text; }
  function busy(button, on) { if (button) button.disabled = on; }

  async function api(path, body) {
    let response;
    try {
      response = await fetch(path, {
        method: body === undefined ? "GET" : "POST",
        headers: { "Content-Type": "application/json", "X-Telegram-Init-Data": initData },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) { return { status: "error", message: T.network }; }
    if (response.status === 401) return { status: "error", message: T.session, fatal: true };
    try { return await response.json(); } catch (e) { return { status: "error", message: T.network }; }
  }

  function handle(result) {
    if (!result) return;
    if (result.fatal) { stopQr(); error(result.message); return; }
    switch (result.status) {
      case "authorized": return success(result.message);
      case "password_needed": stopQr(); show("password"); status(result.message); return;
      case "expired":
        if ($("step-qr").hidden) { show("phone"); error(result.message); } else { startQr(); }
        return;
      case "error":
        if (!$("step-qr").hidden && (qrTimer || pollTimer)) {
          // The QR login ended (another account scanned it, Telegram refused): stop asking
          // and offer a new code instead of overwriting the sentence with the next poll.
          stopQr();
          $("qr").replaceChildren();
          $("qr-timer").textContent = "";
          $("qr-again").hidden = false;
        }
        status(""); error(result.message || ""); return;
      default: if (result.message) status(result.message);
    }
  }

  function success(text) {
    finished = true;
    stopQr();
    show("done");
    $("done-text").textContent = text;
    status("");
    // Close the page on every platform: Telegram's script where it loaded (it knows the
    // apps' webviews and the web clients), else the same events by hand.
    if (tg && tg.initData) {
      // Only keyboard-button Mini Apps may send data (Telegram closes them then); others throw.
      try { tg.sendData("session_ready"); } catch (e) { /* opened from an inline button */ }
      setTimeout(() => { try { tg.close(); } catch (e) { postEvent("web_app_close", {}); } }, 1500);
    } else {
      postEvent("web_app_data_send", { data: "session_ready" });
      setTimeout(() => postEvent("web_app_close", {}), 1500);
    }
  }

  function stopQr() {
    clearInterval(qrTimer); clearInterval(pollTimer); qrTimer = pollTimer = null;
  }

  async function startQr() {
    stopQr();
    show("qr");
    $("qr-again").hidden = true;
    status(T.wait_qr);
    const result = await api("/api/login/qr/start", {});
    if (!result.url) { handle(result); return; }
    $("qr").innerHTML = result.qr_svg;
    $("qr").dataset.url = result.url;
    // Count down from the seconds the server gives (its own clock against Telegram's): this
    // device's clock may be off.
    const given = typeof result.expires_in === "number" ? result.expires_in : 30;
    expiresAt = Date.now() / 1000 + given;
    const tick = () => {
      const left = Math.max(0, Math.round(expiresAt - Date.now() / 1000));
      $("qr-timer").textContent = T.expires.replace("{s}", left);
      if (left <= 3 && !finished) startQr();  // refresh before Telegram lets it expire
    };
    tick();
    qrTimer = setInterval(tick, 1000);
    pollTimer = setInterval(async () => {
      if (finished || document.hidden) return;
      handle(await api("/api/login/qr/check", {}));
    }, 1500);
  }

  function submitter(formId, buttonId, path, field, onWaiting) {
    $(formId).addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = $(field).value.trim();
      if (!value) { $(field).focus(); return; }
      error("");
      status(path.endsWith("phone/start") ? T.sending : T.checking);
      busy($(buttonId), true);
      const result = await api(path, { [field]: value });
      busy($(buttonId), false);
      if (result.status === "waiting" && onWaiting) { onWaiting(result); return; }
      if (result.status === "error" && field !== "phone") $(field).select();
      handle(result);
    });
  }

  function codeStep(result) {
    // SMS words and phrases are words; every other code is digits.
    const input = $("code");
    const words = !!result.code_words;
    input.inputMode = words ? "text" : "numeric";
    input.autocomplete = words ? "off" : "one-time-code";
    input.maxLength = words ? 200 : Math.max(result.code_length || 0, 8);
    input.placeholder = words ? "" : "12345".slice(0, Math.max(result.code_length || 5, 1));
    input.value = "";
    $("code-hint").textContent = result.message || "";
    show("code");
    status("");
  }

  function init() {
    translate();
    applyTheme(fragmentTheme());
    if (tg) {
      applyTheme(tg.themeParams);
      try { tg.onEvent("themeChanged", () => applyTheme(tg.themeParams)); } catch (e) { /* old */ }
      try { tg.ready(); tg.expand(); } catch (e) { /* older clients */ }
    } else {
      window.addEventListener("message", (event) => {
        if (event.source !== window.parent) return;
        let message = event.data;
        try { if (typeof message === "string") message = JSON.parse(message); } catch (e) { return; }
        if (message && message.eventType === "theme_changed" && message.eventData) {
          applyTheme(message.eventData.theme_params);
        }
      });
      postEvent("web_app_ready", {});
      postEvent("web_app_expand", {});
      postEvent("web_app_request_theme", {});
    }
    if (!initData) {
      steps.forEach((name) => { $("step-" + name).hidden = true; });
      error(T.no_init);
      return;
    }
    submitter("phone-form", "phone-submit", "/api/login/phone/start", "phone",
      (result) => codeStep(result));
    submitter("code-form", "code-submit", "/api/login/phone/code", "code");
    submitter("password-form", "password-submit", "/api/login/password", "password");
    $("to-phone").addEventListener("click", () => { stopQr(); show("phone"); status(""); });
    $("to-qr").addEventListener("click", () => startQr());
    $("qr-again").addEventListener("click", () => startQr());
    $("to-phone-again").addEventListener("click", () => { show("phone"); status(""); });
    if (mobile) { show("phone"); } else { startQr(); }
  }

  init();
})();
