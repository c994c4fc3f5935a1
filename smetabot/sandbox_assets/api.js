// The sandbox JSON API (DESIGN.md, "Sandbox"): the only way this page reaches the emulator.

const BASE = "/sandbox/api";

/** An error answered by the API: Telegram's name for it in ``name`` (e.g. MESSAGE_TOO_LONG). */
export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? `${body.error}${body.detail ? ": " + body.detail : ""}` : `HTTP ${status}`);
    this.status = status;
    this.name = (body && body.error) || `HTTP_${status}`;
    this.body = body;
  }
}

/** True once a request failed because the server could not be reached. */
export const connection = { down: false, listeners: new Set() };

function setDown(down) {
  if (connection.down === down) return;
  connection.down = down;
  for (const listener of connection.listeners) listener(down);
}

async function call(path, { method = "GET", json, form } = {}) {
  const init = { method, headers: {} };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (exc) {
    setDown(true);
    throw exc;
  }
  setDown(false);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

const user = (id) => `/users/${encodeURIComponent(id)}`;

export const api = {
  users: () => call("/users"),
  createUser: (fields) => call("/users", { method: "POST", json: fields }),
  chat: (id, after = 0) => call(`${user(id)}/chat?after=${after}`),
  sendText: (id, text) => call(`${user(id)}/send`, { method: "POST", json: { text } }),
  /** ``kind`` is "document" or "photo": the multipart field the API reads. */
  sendFile(id, kind, file, caption) {
    const form = new FormData();
    form.append(kind, file, file.name);
    if (caption) form.append("caption", caption);
    return call(`${user(id)}/send`, { method: "POST", form });
  },
  press: (id, messageId, text, platform) =>
    call(`${user(id)}/press`, { method: "POST", json: { message_id: messageId, text, ...(platform ? { platform } : {}) } }),
  /** The bot's menu button in this person's chat: {kind, text?, url?} or null. */
  menu: (id) => call(`${user(id)}/menu`),
  openMenu: (id, platform) => call(`${user(id)}/menu`, { method: "POST", json: platform ? { platform } : {} }),
  scan: (id, url) => call(`${user(id)}/scan`, { method: "POST", json: { url } }),
  codes: (id) => call(`${user(id)}/codes`),
  join: (id, link) => call(`${user(id)}/join`, { method: "POST", json: { link } }),
  webAppData: (id, buttonText, data) =>
    call(`${user(id)}/web_app_data`, { method: "POST", json: { button_text: buttonText, data } }),
  userChannels: (id) => call(`${user(id)}/channels`),
  /** The posts as the member sees them (opening the channel counts a view, once per person). */
  viewChannel: (id, channelId) => call(`${user(id)}/channels/${channelId}`),
  pressInChannel: (id, channelId, messageId, text) =>
    call(`${user(id)}/channels/${channelId}/press`, { method: "POST", json: { message_id: messageId, text } }),
  channels: () => call("/channels"),
  channel: (channelId) => call(`/channels/${channelId}`),
  fileUrl: (fileId) => `${BASE}/files/${encodeURIComponent(fileId)}`,
};
