#pragma once
// Schema migrations: migration i moves PRAGMA user_version from i to i + 1.

#include <array>

namespace kpiwatch::migrations {

inline constexpr std::array<const char*, 1> kSteps = {
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
};

}  // namespace kpiwatch::migrations
