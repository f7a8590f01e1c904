#include "kpiwatch/alert_book.hpp"

namespace kpiwatch {
namespace {

std::uint64_t hash_of(const std::string& fingerprint) { return std::hash<std::string>{}(fingerprint); }

bool is_active(AlertState s) { return s == AlertState::pending || s == AlertState::firing; }

bool same_figures(const AlertRecord& r, const AlertSample& s) {
  return r.period == s.period.str() && r.value == s.value && r.summary_en == s.summary_en &&
         r.summary_ja == s.summary_ja && r.description_en == s.description_en && r.description_ja == s.description_ja &&
         r.severity == s.severity && r.labels == s.labels && r.receivers == s.receivers;
}

// A working copy over the book, for planning.
struct Overlay {
  const std::map<std::string, AlertRecord>& base;
  const std::map<std::string, std::set<std::string>>& base_groups;
  const std::unordered_map<std::uint64_t, AlertState>& dormant;
  std::map<std::string, AlertRecord> records;
  std::map<std::string, std::set<std::string>> groups;
  std::vector<std::string> order;  // fingerprints in the order they changed
  AlertChanges changes;

  const AlertRecord* get(const std::string& fp) {
    if (auto it = records.find(fp); it != records.end()) return &it->second;
    if (auto it = base.find(fp); it != base.end()) return &it->second;
    return nullptr;
  }
  // The state of an alert the overlay does not hold whole.
  AlertState dormant_state(const std::string& fp) const {
    auto it = dormant.find(hash_of(fp));
    return it == dormant.end() ? AlertState::inactive : it->second;
  }
  // The group's members without copying them; null if it has none.
  const std::set<std::string>* peek_group(const std::string& g) const {
    if (!groups.empty())  // a full pass changes few groups: mostly, one lookup, not two
      if (auto it = groups.find(g); it != groups.end()) return &it->second;
    if (auto it = base_groups.find(g); it != base_groups.end()) return &it->second;
    return nullptr;
  }
  // The group's members, copied into the overlay to be changed.
  std::set<std::string>& group(const std::string& g) {
    auto it = groups.find(g);
    if (it != groups.end()) return it->second;
    auto base_it = base_groups.find(g);
    return groups[g] = base_it == base_groups.end() ? std::set<std::string>{} : base_it->second;
  }
  void put(AlertRecord r, std::optional<Transition> t) {
    std::string fp = r.fingerprint;
    if (!records.contains(fp)) order.push_back(fp);
    records[fp] = std::move(r);
    if (t) changes.transitions.push_back(std::move(*t));
  }
  AlertChanges finish() {
    for (const auto& fp : order) changes.updated.push_back(records.at(fp));
    return std::move(changes);
  }
};

void deactivate(Overlay& o, const std::string& fp, TimePoint at) {
  const AlertRecord* current = o.get(fp);
  if (!current || !is_active(current->state)) return;
  AlertRecord r = *current;
  AlertState from = r.state;
  r.state = from == AlertState::firing ? AlertState::resolved : AlertState::inactive;
  if (r.state == AlertState::resolved) r.resolved_at = at;
  r.acknowledged_at.reset();  // an acknowledgement lasts for one episode
  r.acknowledged_by.clear();
  r.ack_comment.clear();
  r.updated_at = at;
  o.put(r, Transition{r, from, r.state, at});
}

// An alert active in an evaluation: it starts, is promoted to firing, or takes new figures.
void observe(Overlay& o, const std::string& group, const AlertSample& s, TimePoint at) {
  const AlertRecord* current = o.get(s.fingerprint);
  AlertState from = current ? current->state : o.dormant_state(s.fingerprint);
  bool promoted = from == AlertState::pending && s.state == AlertState::firing;
  if (current && is_active(from) && !promoted && same_figures(*current, s)) return;  // nothing changes
  AlertRecord r = current ? *current : AlertRecord{};
  r.fingerprint = s.fingerprint;
  r.group = group;
  bool changed_figures = !current || !same_figures(*current, s);
  take_figures(r, s);
  std::optional<Transition> t;
  if (!is_active(from)) {
    r.state = s.state;
    r.active_since = at;
    r.firing_since = s.state == AlertState::firing ? std::optional<TimePoint>(at) : std::nullopt;
    r.resolved_at.reset();
  } else if (promoted) {
    r.state = AlertState::firing;
    r.firing_since = at;
  }  // firing stays firing while the condition holds
  if (r.state != from) {
    r.updated_at = at;
    t = Transition{r, from, r.state, at};
  } else if (!changed_figures) {
    return;
  } else {
    r.updated_at = at;
  }
  o.group(group).insert(r.fingerprint);
  o.put(std::move(r), std::move(t));
}

// The group's alerts that the evaluation no longer lists.
void deactivate_others(Overlay& o, const std::string& group, const std::set<std::string>& still_active, TimePoint at) {
  std::vector<std::string> gone;
  if (const auto* members = o.peek_group(group))
    for (const auto& fp : *members)
      if (!still_active.contains(fp)) gone.push_back(fp);
  if (gone.empty()) return;  // the common case: nothing to copy
  auto& members = o.group(group);
  for (const auto& fp : gone) {
    deactivate(o, fp, at);
    members.erase(fp);
  }
}

}  // namespace

void take_figures(AlertRecord& r, const AlertSample& s) {
  r.rule_id = s.rule_id;
  r.kpi = s.kpi;
  r.labels = s.labels;
  r.severity = s.severity;
  r.period = s.period.str();
  r.value = s.value;
  r.summary_ja = s.summary_ja;
  r.summary_en = s.summary_en;
  r.description_ja = s.description_ja;
  r.description_en = s.description_en;
  r.receivers = s.receivers;
}

void AlertBook::load(std::vector<AlertRecord> records) {
  records_.clear();
  dormant_.clear();
  active_by_group_.clear();
  counts_ = {};
  for (auto& r : records) add(std::move(r));
}

void AlertBook::set_state(const std::string& fingerprint, std::optional<AlertState> before, AlertState after) {
  if (before) --counts_[static_cast<std::size_t>(*before)];
  ++counts_[static_cast<std::size_t>(after)];
  if (is_active(after))
    dormant_.erase(hash_of(fingerprint));
  else
    dormant_[hash_of(fingerprint)] = after;
}

void AlertBook::add(AlertRecord record) {
  if (!is_active(record.state)) return add_state(record.fingerprint, record.state);
  std::optional<AlertState> before;
  if (auto it = records_.find(record.fingerprint); it != records_.end()) before = it->second.state;
  set_state(record.fingerprint, before, record.state);
  active_by_group_[record.group].insert(record.fingerprint);
  std::string fp = record.fingerprint;
  records_[fp] = std::move(record);
}

void AlertBook::add_state(const std::string& fingerprint, AlertState state) {
  std::optional<AlertState> before;
  if (auto it = dormant_.find(hash_of(fingerprint)); it != dormant_.end()) before = it->second;
  set_state(fingerprint, before, state);
}

AlertChanges AlertBook::plan(const std::vector<Evaluation>& evaluations, TimePoint now) const {
  Overlay o{records_, active_by_group_, dormant_, {}, {}, {}, {}};
  for (const auto& e : evaluations) {
    if (e.unknown) continue;  // missing figures neither fire nor resolve
    std::set<std::string> still_active;
    for (const auto& s : e.active) {
      still_active.insert(s.fingerprint);
      observe(o, e.group, s, now);
    }
    deactivate_others(o, e.group, still_active, now);
  }
  return o.finish();
}

AlertChanges AlertBook::plan_retired(const RuleSet& rules, TimePoint now) const {
  Overlay o{records_, active_by_group_, dormant_, {}, {}, {}, {}};
  for (const auto& [fp, r] : records_)
    if (is_active(r.state) && !rules.covers(r.rule_id, r.kpi, r.labels)) deactivate(o, fp, now);
  return o.finish();
}

void AlertBook::commit(const AlertChanges& changes) {
  for (const auto& r : changes.updated) {
    std::optional<AlertState> before;
    auto it = records_.find(r.fingerprint);
    if (it != records_.end()) {
      before = it->second.state;
    } else if (auto d = dormant_.find(hash_of(r.fingerprint)); d != dormant_.end()) {
      before = d->second;
    }
    set_state(r.fingerprint, before, r.state);
    if (is_active(r.state)) {
      active_by_group_[r.group].insert(r.fingerprint);
      if (it != records_.end())
        it->second = r;
      else
        records_.emplace(r.fingerprint, r);
      continue;
    }
    if (auto g = active_by_group_.find(r.group); g != active_by_group_.end()) {
      g->second.erase(r.fingerprint);
      if (g->second.empty()) active_by_group_.erase(g);
    }
    if (it != records_.end()) records_.erase(it);
  }
}

bool AlertBook::acknowledge(const std::string& fingerprint, TimePoint at, const std::string& by,
                            const std::string& comment) {
  auto it = records_.find(fingerprint);
  if (it == records_.end() || !is_active(it->second.state)) return false;
  it->second.acknowledged_at = at;
  it->second.acknowledged_by = by;
  it->second.ack_comment = comment;
  return true;
}

const AlertRecord* AlertBook::find(const std::string& fingerprint) const {
  auto it = records_.find(fingerprint);
  return it == records_.end() ? nullptr : &it->second;
}

AlertState AlertBook::state_of(const std::string& fingerprint) const {
  if (const AlertRecord* r = find(fingerprint)) return r->state;
  auto it = dormant_.find(hash_of(fingerprint));
  return it == dormant_.end() ? AlertState::inactive : it->second;
}

std::vector<const AlertRecord*> AlertBook::active() const {
  std::vector<const AlertRecord*> out;
  out.reserve(records_.size());
  for (const auto& [fp, r] : records_) out.push_back(&r);
  return out;
}

std::size_t AlertBook::active_count() const { return records_.size(); }

}  // namespace kpiwatch
