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
      case "error": status(""); error(result.message || ""); return;
      default: if (result.message) status(result.message);
    }
  }

  function success(text) {
    finished = true;
    stopQr();
    show("done");
    $("done-text").textContent = text;
    status("");
    if (tg && tg.initData) {
      // Reply-keyboard WebApps may send data to the bot; Telegram closes the page then.
      try { tg.sendData("session_ready"); } catch (e) { /* not opened from a keyboard */ }
      setTimeout(() => { try { tg.close(); } catch (e) { /* ignore */ } }, 1500);
    } else if (window.parent !== window) {
      // Opened in an iframe without telegram-web-app.js (the sandbox): speak Telegram's web
      // protocol to the host, as the script itself would.
      const post = (eventType, eventData) =>
        window.parent.postMessage(JSON.stringify({ eventType, eventData }), "*");
      post("web_app_data_send", { data: "session_ready" });
      setTimeout(() => post("web_app_close", {}), 1500);
    }
  }

  function stopQr() {
    clearInterval(qrTimer); clearInterval(pollTimer); qrTimer = pollTimer = null;
  }

  async function startQr() {
    stopQr();
    show("qr");
    status(T.wait_qr);
    const result = await api("/api/login/qr/start", {});
    if (!result.url) { handle(result); return; }
    $("qr").innerHTML = result.qr_svg;
    $("qr").dataset.url = result.url;
    expiresAt = result.expires_at;
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

  function init() {
    translate();
    if (tg) {
      try { tg.ready(); tg.expand(); } catch (e) { /* older clients */ }
    }
    if (!initData) { error(T.no_init); return; }
    submitter("phone-form", "phone-submit", "/api/login/phone/start", "phone",
      (result) => { show("code"); status(result.message || ""); });
    submitter("code-form", "code-submit", "/api/login/phone/code", "code");
    submitter("password-form", "password-submit", "/api/login/password", "password");
    $("to-phone").addEventListener("click", () => { stopQr(); show("phone"); status(""); });
    $("to-qr").addEventListener("click", () => startQr());
    $("to-phone-again").addEventListener("click", () => { show("phone"); status(""); });
    if (mobile) { show("phone"); } else { startQr(); }
  }

  init();
})();
