// Silences: label matchers that suppress notifications for a while.
#include <boost/json.hpp>

#include "kpiwatch/json.hpp"
#include "kpiwatch/outbox_repository.hpp"
#include "statement.hpp"

namespace kpiwatch {
namespace json = boost::json;
using sql::Statement;

namespace {

constexpr std::string_view kSilenceColumns =
    "SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at FROM silences WHERE deleted_at = ''";

Matchers parse_matchers(const std::string& text) {
  Matchers out;
  boost::system::error_code ec;
  auto m = json::parse(text, ec);
  if (!ec && m.is_object())
    for (const auto& [k, v] : m.get_object())
      if (v.is_string()) out[std::string(k)] = std::string(v.get_string());
  return out;
}

Result<std::vector<Silence>> read_silences(Statement& s) {
  std::vector<Silence> out;
  auto read = s.each_row("read silences", [&](Statement& row) {
    out.push_back(Silence{row.int64(0), parse_matchers(row.text(1)), row.text(2), row.text(3), row.text(4), row.text(5),
                          row.text(6)});
  });
  if (!read) return read.error();
  return out;
}

}  // namespace

bool Silence::matches(const Labels& labels) const { return !matchers.empty() && labels_match(matchers, labels); }

Result<std::int64_t> SilenceRepository::add(const Silence& silence) {
  json::object matchers;
  for (const auto& [k, v] : silence.matchers) matchers[k] = v;
  Transaction tx(db_);
  if (!tx.began()) return tx.began().error();
  std::int64_t id = 0;
  {
    auto s = db_.statement(
        "INSERT INTO silences (matchers, starts_at, ends_at, created_by, comment, created_at) VALUES (?1, ?2, ?3, ?4, "
        "?5, ?6)");
    if (!s) return s.error();
    s->bind_all(serialize_json(matchers), silence.starts_at, silence.ends_at, silence.created_by, silence.comment,
                silence.created_at);
    if (auto done = s->run("add silence"); !done) return done.error();
    id = db_.last_insert_id();
  }
  if (auto committed = tx.commit(); !committed) return committed.error();
  return id;
}

Result<std::vector<Silence>> SilenceRepository::active_at(const std::string& now) {
  auto s = db_.statement(fmt::format("{} AND starts_at <= ?1 AND ends_at > ?1 ORDER BY id", kSilenceColumns));
  if (!s) return s.error();
  s->bind(1, now);
  return read_silences(*s);
}

Result<std::vector<Silence>> SilenceRepository::all() {
  auto s = db_.statement(fmt::format("{} ORDER BY id", kSilenceColumns));
  if (!s) return s.error();
  return read_silences(*s);
}

Result<bool> SilenceRepository::remove(std::int64_t id, const std::string& at) {
  Transaction tx(db_);
  if (!tx.began()) return tx.began().error();
  bool removed = false;
  {
    auto s = db_.statement("UPDATE silences SET deleted_at = ?2 WHERE id = ?1 AND deleted_at = ''");
    if (!s) return s.error();
    s->bind_all(id, at);
    if (auto done = s->run("delete silence"); !done) return done.error();
    removed = db_.changes() > 0;
  }
  if (auto committed = tx.commit(); !committed) return committed.error();
  return removed;
}

}  // namespace kpiwatch
