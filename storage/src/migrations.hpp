#pragma once
// Schema migrations: migration i moves PRAGMA user_version from i to i + 1.

#include <array>

namespace kpiwatch::migrations {

inline constexpr std::array<const char*, 6> kSteps = {
    // 1: series and their append-only revisions.
    R"sql(
CREATE TABLE series (
  id          INTEGER PRIMARY KEY,
  kpi         TEXT NOT NULL,
  dims        TEXT NOT NULL,          -- canonical "name=value,..." (sorted)
  period_kind TEXT NOT NULL,
  UNIQUE (kpi, dims)
);
CREATE TABLE revisions (
  id           INTEGER PRIMARY KEY,
  series_id    INTEGER NOT NULL REFERENCES series (id),
  period       TEXT NOT NULL,
  period_ord   INTEGER NOT NULL,      -- consecutive periods have consecutive ordinals
  revision     INTEGER NOT NULL,
  value        REAL,
  items        TEXT,                  -- JSON array, for item-list KPIs
  body         TEXT NOT NULL,
  source       TEXT NOT NULL,
  note         TEXT NOT NULL,
  submitted_by TEXT NOT NULL,
  received_at  TEXT NOT NULL,
  UNIQUE (series_id, period_ord, revision)
);
CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions
BEGIN SELECT RAISE(ABORT, 'revisions are append-only'); END;
CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
BEGIN SELECT RAISE(ABORT, 'revisions are append-only'); END;
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql",
    // 2: alerts, their current state and every transition.
    R"sql(
CREATE TABLE alerts (
  fingerprint    TEXT PRIMARY KEY,
  grp            TEXT NOT NULL,      -- rule id + series: alerts evaluated together
  rule_id        TEXT NOT NULL,
  kpi            TEXT NOT NULL,
  goal           INTEGER NOT NULL,
  labels         TEXT NOT NULL,      -- JSON object
  severity       TEXT NOT NULL,
  state          TEXT NOT NULL,      -- inactive | pending | firing | resolved
  period         TEXT NOT NULL,
  value          REAL,
  summary_ja     TEXT NOT NULL,
  summary_en     TEXT NOT NULL,
  description_ja TEXT NOT NULL,
  description_en TEXT NOT NULL,
  receivers      TEXT NOT NULL,      -- JSON array
  active_since   TEXT NOT NULL,
  firing_since   TEXT NOT NULL,
  resolved_at    TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);
CREATE INDEX alerts_state ON alerts (state);
CREATE TABLE alert_transitions (
  id          INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL REFERENCES alerts (fingerprint),
  from_state  TEXT NOT NULL,
  to_state    TEXT NOT NULL,
  at          TEXT NOT NULL,
  period      TEXT NOT NULL,
  value       REAL,
  summary_ja  TEXT NOT NULL,
  summary_en  TEXT NOT NULL
);
CREATE INDEX alert_transitions_fingerprint ON alert_transitions (fingerprint, id);
)sql",
    // 3: the notification outbox, silences, acknowledgements.
    R"sql(
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  fingerprint     TEXT NOT NULL,
  receiver        TEXT NOT NULL,
  event           TEXT NOT NULL,      -- firing | resolved | repeat
  status          TEXT NOT NULL,      -- pending | delivered | dead | suppressed
  body            TEXT NOT NULL,      -- the request body, the same for every attempt
  idempotency_key TEXT NOT NULL UNIQUE,
  created_at      TEXT NOT NULL,
  next_attempt_at TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT NOT NULL DEFAULT '',
  delivered_at    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_alert ON outbox (fingerprint, receiver, id);
CREATE TABLE silences (
  id         INTEGER PRIMARY KEY,
  matchers   TEXT NOT NULL,           -- JSON object: label = value
  starts_at  TEXT NOT NULL,
  ends_at    TEXT NOT NULL,
  created_by TEXT NOT NULL,
  comment    TEXT NOT NULL,
  created_at TEXT NOT NULL,
  deleted_at TEXT NOT NULL DEFAULT ''
);
ALTER TABLE alerts ADD COLUMN acknowledged_at TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN ack_comment TEXT NOT NULL DEFAULT '';
)sql",
    // 4: notification groups (one request for the alerts of a group) and inhibition.
    R"sql(
ALTER TABLE outbox ADD COLUMN group_key TEXT NOT NULL DEFAULT '';     -- '' : sent alone
ALTER TABLE outbox ADD COLUMN group_labels TEXT NOT NULL DEFAULT '';  -- JSON object of the group_by labels
ALTER TABLE outbox ADD COLUMN message_key TEXT NOT NULL DEFAULT '';   -- the group message it is sent in
CREATE INDEX outbox_group ON outbox (receiver, group_key, status, message_key);
CREATE INDEX outbox_message ON outbox (message_key);
CREATE TABLE outbox_groups (
  receiver     TEXT NOT NULL,
  group_key    TEXT NOT NULL,
  last_sent_at TEXT NOT NULL,         -- when the group's last message was first sent
  PRIMARY KEY (receiver, group_key)
);
ALTER TABLE alerts ADD COLUMN inhibited_by TEXT NOT NULL DEFAULT '[]';  -- JSON array of fingerprints
)sql",
    // 5: the newest alerts of a KPI without reading all of them (the status page's overview).
    R"sql(
CREATE INDEX alerts_kpi_active ON alerts (kpi, active_since, fingerprint);
)sql",
    // 6: reads that cost what they return. A series' dims pairs, each with the
    // series' dims key so that a dims filter reads its matches in dims order; the
    // series count per KPI; the alert list's order as indexed columns, for keyset pages.
    R"sql(
CREATE TABLE series_dims (
  kpi       TEXT NOT NULL,
  name      TEXT NOT NULL,
  value     TEXT NOT NULL,
  dims      TEXT NOT NULL,            -- the series' dims key
  series_id INTEGER NOT NULL REFERENCES series (id),
  PRIMARY KEY (kpi, name, value, dims)
) WITHOUT ROWID;
WITH RECURSIVE pairs (kpi, dims, series_id, pair, rest) AS (
  SELECT kpi, dims, id, '', dims || ',' FROM series WHERE dims <> ''
  UNION ALL
  SELECT kpi, dims, series_id, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)
  FROM pairs WHERE rest <> ''
)
INSERT INTO series_dims (kpi, name, value, dims, series_id)
SELECT kpi, substr(pair, 1, instr(pair, '=') - 1), substr(pair, instr(pair, '=') + 1), dims, series_id
FROM pairs WHERE instr(pair, '=') > 0;
CREATE TABLE kpi_series (
  kpi    TEXT PRIMARY KEY,
  series INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO kpi_series (kpi, series) SELECT kpi, COUNT(*) FROM series GROUP BY kpi;
ALTER TABLE alerts ADD COLUMN list_state INTEGER GENERATED ALWAYS AS
  (CASE state WHEN 'firing' THEN 0 WHEN 'pending' THEN 1 WHEN 'resolved' THEN 2 ELSE 3 END) VIRTUAL;
-- (json_extract fails on text that is not JSON: such labels read as none.)
ALTER TABLE alerts ADD COLUMN list_missing INTEGER GENERATED ALWAYS AS
  (json_extract(CASE WHEN json_valid(labels) THEN labels ELSE '{}' END, '$.criterion') IS 'missing_data') VIRTUAL;
ALTER TABLE alerts ADD COLUMN list_severity INTEGER GENERATED ALWAYS AS
  (CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END) VIRTUAL;
-- The goal label's number; 0 unless it is all digits.
ALTER TABLE alerts ADD COLUMN list_goal INTEGER GENERATED ALWAYS AS
  (CASE WHEN json_extract(CASE WHEN json_valid(labels) THEN labels ELSE '{}' END, '$.goal') GLOB '[0-9]*'
             AND json_extract(CASE WHEN json_valid(labels) THEN labels ELSE '{}' END, '$.goal') NOT GLOB '*[^0-9]*'
        THEN CAST(json_extract(labels, '$.goal') AS INTEGER) ELSE 0 END) VIRTUAL;
CREATE INDEX alerts_listed ON alerts (list_state, list_missing, list_severity, list_goal, kpi, fingerprint);
CREATE INDEX alerts_kpi_listed ON alerts (kpi, list_state, list_missing, list_severity, list_goal, fingerprint);
)sql",
};

}  // namespace kpiwatch::migrations
