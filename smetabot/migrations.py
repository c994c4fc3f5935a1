"""Numbered, forward-only schema migrations of the main database.

Tables mirror the original PostgreSQL schemas ``core``, ``billing`` and ``analytics`` as
``core_*``, ``billing_*`` and ``analytics_*`` in one SQLite file, so that a channel and its usage
counter change in one transaction. Never edit a migration that has shipped: add the next one.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    ("0001_initial", """
CREATE TABLE core_contractors (
    id                INTEGER PRIMARY KEY,          -- the Telegram user id
    first_name        TEXT NOT NULL DEFAULT '',
    username          TEXT,
    language          TEXT NOT NULL DEFAULT 'ru',
    default_watermark TEXT,
    session_state     TEXT NOT NULL DEFAULT 'none'
                      CHECK (session_state IN ('none', 'connected', 'revoked')),
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE core_channels (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    contractor_id       INTEGER NOT NULL REFERENCES core_contractors(id) ON DELETE CASCADE,
    telegram_channel_id INTEGER UNIQUE,
    title               TEXT NOT NULL,
    protected           INTEGER NOT NULL DEFAULT 0,
    bot_is_admin        INTEGER NOT NULL DEFAULT 0,
    status              TEXT NOT NULL DEFAULT 'creating'
                        CHECK (status IN ('creating', 'waiting_admin', 'ready', 'archived',
                                          'failed')),
    next_retry_at       TEXT,
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX core_channels_contractor ON core_channels (contractor_id, created_at);

CREATE TABLE core_invites (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id   INTEGER NOT NULL REFERENCES core_channels(id) ON DELETE CASCADE,
    link         TEXT NOT NULL UNIQUE,
    name         TEXT,
    member_limit INTEGER,
    expires_at   TEXT,
    revoked      INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE core_uploads (
    id            TEXT PRIMARY KEY,                 -- random, also the folder name
    contractor_id INTEGER NOT NULL REFERENCES core_contractors(id) ON DELETE CASCADE,
    file_name     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    path          TEXT NOT NULL,
    pages         INTEGER,
    status        TEXT NOT NULL DEFAULT 'received',
    expires_at    TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX core_uploads_expiry ON core_uploads (expires_at);

CREATE TABLE core_publications (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id    INTEGER NOT NULL REFERENCES core_channels(id) ON DELETE CASCADE,
    upload_id     TEXT REFERENCES core_uploads(id) ON DELETE SET NULL,
    file_name     TEXT NOT NULL DEFAULT '',
    pages         TEXT NOT NULL DEFAULT '[]',       -- JSON list of page numbers
    watermark     TEXT NOT NULL DEFAULT '',
    tracking_code TEXT NOT NULL UNIQUE,
    message_ids   TEXT NOT NULL DEFAULT '[]',       -- JSON list of channel message ids
    status        TEXT NOT NULL DEFAULT 'rendering',
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE billing_plans (
    code                   TEXT PRIMARY KEY,
    title                  TEXT NOT NULL,
    max_channels           INTEGER,                 -- NULL: unlimited
    max_publications_month INTEGER,
    created_at             TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO billing_plans (code, title, max_channels, max_publications_month)
VALUES ('free', 'Free', 3, 20);

CREATE TABLE billing_subscriptions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    contractor_id INTEGER NOT NULL REFERENCES core_contractors(id) ON DELETE CASCADE,
    plan_code     TEXT NOT NULL REFERENCES billing_plans(code),
    starts_at     TEXT NOT NULL,
    ends_at       TEXT,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX billing_subscriptions_contractor ON billing_subscriptions (contractor_id, starts_at);

CREATE TABLE billing_usage_counters (
    contractor_id    INTEGER NOT NULL REFERENCES core_contractors(id) ON DELETE CASCADE,
    month            TEXT NOT NULL,                 -- YYYY-MM
    channels_created INTEGER NOT NULL DEFAULT 0,
    publications     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (contractor_id, month)
);

CREATE TABLE analytics_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    contractor_id    INTEGER REFERENCES core_contractors(id) ON DELETE SET NULL,
    telegram_user_id INTEGER,
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL DEFAULT '{}',
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX analytics_events_kind ON analytics_events (kind, created_at);

CREATE TABLE analytics_publication_views (
    publication_id INTEGER NOT NULL REFERENCES core_publications(id) ON DELETE CASCADE,
    message_id     INTEGER NOT NULL,
    views          INTEGER NOT NULL DEFAULT 0,
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (publication_id, message_id)
);

CREATE TABLE conversation_states (
    telegram_user_id INTEGER PRIMARY KEY,
    flow             TEXT NOT NULL,
    step             TEXT NOT NULL,
    data             TEXT NOT NULL DEFAULT '{}',
    updated_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
"""),
    ("0002_channel_setup_and_members", """
-- The owner's access hash of the channel (a user client's peer cache is in memory only), and
-- the retries of a half-done setup.
ALTER TABLE core_channels ADD COLUMN access_hash INTEGER;
ALTER TABLE core_channels ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE core_channels ADD COLUMN last_error TEXT;
CREATE INDEX core_channels_retry ON core_channels (status, next_retry_at);

-- Clients in a channel, as the bot learns from chat_member updates.
CREATE TABLE core_channel_members (
    channel_id       INTEGER NOT NULL REFERENCES core_channels(id) ON DELETE CASCADE,
    telegram_user_id INTEGER NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    username         TEXT,
    invite_link      TEXT,
    joined_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    left_at          TEXT,
    PRIMARY KEY (channel_id, telegram_user_id)
);
"""),
    ("0003_publishing", """
ALTER TABLE core_uploads ADD COLUMN status_message_id INTEGER;
ALTER TABLE core_uploads ADD COLUMN error TEXT;
ALTER TABLE core_uploads ADD COLUMN pdf_path TEXT;
ALTER TABLE core_publications ADD COLUMN contractor_id INTEGER
    REFERENCES core_contractors(id) ON DELETE CASCADE;
ALTER TABLE core_publications ADD COLUMN random_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE core_publications ADD COLUMN sent_albums INTEGER NOT NULL DEFAULT 0;
ALTER TABLE core_publications ADD COLUMN error TEXT;
ALTER TABLE core_publications ADD COLUMN status_message_id INTEGER;
ALTER TABLE core_publications ADD COLUMN lang TEXT NOT NULL DEFAULT 'ru';
CREATE INDEX core_publications_status ON core_publications (status);
CREATE INDEX core_uploads_status ON core_uploads (status);
"""),
    ("0004_login_limits", """
-- Login limits (code requests per requester and per phone number, guesses per requester):
-- one row per counted event, so a restart does not reset them. The key of a phone number is a
-- hash of it, not the number.
CREATE TABLE login_limit_events (
    scope TEXT NOT NULL,             -- code_user, code_phone, guess_user
    key   TEXT NOT NULL,
    at    REAL NOT NULL              -- unix seconds
);
CREATE INDEX login_limit_events_key ON login_limit_events (scope, key, at);
"""),
    ("0006_publication_titles", """
ALTER TABLE core_publications ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE core_publications ADD COLUMN replaced_by INTEGER REFERENCES core_publications(id);
ALTER TABLE core_publications ADD COLUMN finished_at TEXT;
ALTER TABLE core_uploads ADD COLUMN sheets TEXT;
ALTER TABLE core_uploads ADD COLUMN previews_sent INTEGER NOT NULL DEFAULT 0;
-- a document being received (downloaded and checked) before it has an upload row: a crash
-- then leaves this, and the next start tells the contractor to send it again
CREATE TABLE core_receipts (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    contractor_id     INTEGER NOT NULL,
    file_name         TEXT NOT NULL,
    status_message_id INTEGER,
    lang              TEXT NOT NULL DEFAULT 'ru',
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
"""),
]
MIGRATIONS.append(("0005_analytics", """
-- Events name their channel and publication (a trace asks "who was a member then").
ALTER TABLE analytics_events ADD COLUMN channel_id INTEGER;
ALTER TABLE analytics_events ADD COLUMN publication_id INTEGER;
CREATE INDEX analytics_events_channel ON analytics_events (channel_id, created_at);
CREATE INDEX analytics_events_contractor ON analytics_events (contractor_id, created_at);

-- The latest reading of each posted page (the 0001 table) gains its page and when views
-- beyond the contractor's own first appeared.
ALTER TABLE analytics_publication_views ADD COLUMN page INTEGER;
ALTER TABLE analytics_publication_views ADD COLUMN first_seen_at TEXT;

-- The time series: one row each time a page's count changed (a reading that finds the count
-- unchanged only moves analytics_publication_views.updated_at). Thinned: hourly after a week,
-- daily after a month.
CREATE TABLE analytics_view_readings (
    publication_id INTEGER NOT NULL REFERENCES core_publications(id) ON DELETE CASCADE,
    page           INTEGER NOT NULL,
    read_at        TEXT NOT NULL,
    views          INTEGER NOT NULL,
    PRIMARY KEY (publication_id, page, read_at)
) WITHOUT ROWID;

-- When each publication is read next, and what its contractor was told.
CREATE TABLE analytics_view_schedule (
    publication_id INTEGER PRIMARY KEY REFERENCES core_publications(id) ON DELETE CASCADE,
    next_at        TEXT NOT NULL,
    own_view       INTEGER NOT NULL DEFAULT 0,
    opened_told    INTEGER NOT NULL DEFAULT 0,
    notified_at    TEXT,
    stopped        TEXT
);
CREATE INDEX analytics_view_schedule_due ON analytics_view_schedule (stopped, next_at);

-- Per contractor: the notice switch, the hour's call budget, a flood wait, a lost session.
CREATE TABLE analytics_contractors (
    contractor_id  INTEGER PRIMARY KEY REFERENCES core_contractors(id) ON DELETE CASCADE,
    notify_views   INTEGER NOT NULL DEFAULT 1,
    budget_hour    TEXT,
    budget_calls   INTEGER NOT NULL DEFAULT 0,
    paused_until   TEXT,
    session_told   INTEGER NOT NULL DEFAULT 0
);
"""))
MIGRATIONS.append(("0007_approvals", """
-- The message with «✅ Согласовать» / «💬 Задать вопрос» under each publication, and its
-- approval: who (Telegram id, name, username), which version (code, page count), when.
CREATE TABLE approvals_posts (
    publication_id INTEGER PRIMARY KEY REFERENCES core_publications(id) ON DELETE CASCADE,
    message_id     INTEGER NOT NULL,
    approved_by    INTEGER,
    name           TEXT,
    username       TEXT,
    tracking_code  TEXT,
    pages          INTEGER,
    approved_at    TEXT
);
-- A client's question about a publication, the message that relayed it to the contractor,
-- and when it was answered.
CREATE TABLE approvals_questions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    publication_id INTEGER NOT NULL REFERENCES core_publications(id) ON DELETE CASCADE,
    contractor_id  INTEGER NOT NULL,
    client_id      INTEGER NOT NULL,
    text           TEXT NOT NULL,
    relay_message_id INTEGER,
    asked_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    answered_at    TEXT
);
CREATE INDEX approvals_questions_client ON approvals_questions (client_id, asked_at);
CREATE INDEX approvals_questions_relay ON approvals_questions (contractor_id, relay_message_id);
-- Per contractor: whether publications get the buttons (on unless switched off).
CREATE TABLE approvals_settings (
    contractor_id  INTEGER PRIMARY KEY,
    enabled        INTEGER NOT NULL DEFAULT 1
);
"""))
MIGRATIONS.append(("0008_join_requests", """
-- How clients get into a channel: through join requests the contractor approves, through
-- single-use links, or through open links (every channel made before this migration).
ALTER TABLE core_channels ADD COLUMN join_mode TEXT NOT NULL DEFAULT 'open'
    CHECK (join_mode IN ('approve', 'single_use', 'open'));
-- A link that makes join requests; a single-use link (member_limit 1, a 0001 column) names
-- who used it.
ALTER TABLE core_invites ADD COLUMN request_needed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE core_invites ADD COLUMN used_by INTEGER;

-- Join requests the bot heard of (updateBotChatInviteRequester) and what the contractor
-- decided: kept so that a restart leaves them answerable, and so a second tap acts no more.
CREATE TABLE core_join_requests (
    channel_id       INTEGER NOT NULL REFERENCES core_channels(id) ON DELETE CASCADE,
    telegram_user_id INTEGER NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    username         TEXT,
    invite_link      TEXT,
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'approved', 'declined', 'gone')),
    requested_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    decided_at       TEXT,
    PRIMARY KEY (channel_id, telegram_user_id)
);
"""))
MIGRATIONS.append(("0009_publication_announced", """
-- When the contractor was told a publication is out (and its buttons message posted): a
-- restart between "published" and that message tells it then. Publications out before this
-- migration were told (a failed one is told when a retry publishes it).
ALTER TABLE core_publications ADD COLUMN announced_at TEXT;
UPDATE core_publications SET announced_at = created_at
    WHERE status IN ('published', 'withdrawn', 'replaced');
"""))
MIGRATIONS.append(("0010_handled_messages", """
-- The newest private message of each contractor the bot began to handle (its id and date).
-- The bot's saved update state lags behind what it handled (it is written every few seconds),
-- so after a crash Telegram hands recent messages again: those not newer than this are not
-- handled twice (a document processed twice, a channel created twice). The date tells a
-- message of another bot (a new token: its ids start again) from one handed again.
ALTER TABLE core_contractors ADD COLUMN last_message_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE core_contractors ADD COLUMN last_message_date INTEGER NOT NULL DEFAULT 0;

-- When the contractor was shown a ready upload (its last previews, "📄 «…»: N стр." and the
-- page picker): a crash after the upload became ready but before that shows it at the next
-- start. Uploads before this migration were shown.
ALTER TABLE core_uploads ADD COLUMN shown_at TEXT;
UPDATE core_uploads SET shown_at = created_at WHERE status = 'ready';
"""))

MIGRATIONS.append(("0011_join_request_message", """
-- The contractor's message about a join request (its «✅ Пустить» / «❌ Отклонить»): when the
-- request is answered elsewhere (the channel card, an admin in Telegram) the message says so
-- and loses its buttons.
ALTER TABLE core_join_requests ADD COLUMN message_id INTEGER;
"""))
