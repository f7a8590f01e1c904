#include "kpiwatch/submission.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <set>
#include <tuple>

#include "kpiwatch/json.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {
namespace json = boost::json;

namespace {

Error fail(ErrorCode code, std::string message, std::string field = {}) {
  return {code, std::move(message), std::move(field), std::nullopt};
}

std::string_view kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

Error wrong_type(std::string_view field, std::string_view expected, const json::value& got) {
  return fail(ErrorCode::invalid_type, fmt::format("\"{}\" must be {}, not {}", field, expected, kind_name(got)),
              std::string(field));
}

Result<std::string> text_field(const json::object& obj, std::string_view field, bool required,
                               const ValidationLimits& limits) {
  const json::value* v = obj.if_contains(field);
  if (!v) {
    if (required) return fail(ErrorCode::missing_field, fmt::format("\"{}\" is required", field), std::string(field));
    return std::string();
  }
  if (!v->is_string()) return wrong_type(field, "a string", *v);
  const auto& s = v->get_string();
  if (s.size() > limits.max_text)
    return fail(ErrorCode::text_too_long, fmt::format("\"{}\" is longer than {} bytes", field, limits.max_text),
                std::string(field));
  return std::string(s);
}

// A JSON pointer from parse_json as the API names a place: "/submissions/3/dims/stage" is
// field "dims.stage" of entry 3.
Error located(Error e) {
  std::string_view pointer = e.field;
  if (pointer.empty()) return e;
  if (pointer.starts_with("/submissions/")) {
    auto rest = pointer.substr(13);
    auto slash = rest.find('/');
    std::size_t index = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + std::min(slash, rest.size()), index);
    if (ec == std::errc{} && end == rest.data() + std::min(slash, rest.size())) {
      e.index = index;
      pointer = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    }
  }
  std::string field;
  for (char c : pointer.substr(pointer.empty() ? 0 : 1)) field += c == '/' ? '.' : c;
  e.field = std::move(field);
  return e;
}

// Every key and string of a submission is UTF-8. Text parsed by parse_json is; the objects that
// CSV import and rule tests build are checked here, before any of their text is echoed in a message.
Status check_utf8(const json::value& v, const std::string& field) {
  auto refuse = [](std::string_view text, std::size_t at, const std::string& where) {
    return fail(ErrorCode::invalid_encoding,
                fmt::format("\"{}\" is not UTF-8 text: byte 0x{:02X} at offset {}", where,
                            static_cast<unsigned char>(text[at]), at),
                where);
  };
  if (v.is_string()) {
    if (auto bad = invalid_utf8_at(v.get_string())) return refuse(v.get_string(), *bad, field);
  } else if (v.is_array()) {
    const auto& array = v.get_array();
    for (std::size_t i = 0; i < array.size(); ++i)
      if (auto ok = check_utf8(array[i], fmt::format("{}[{}]", field, i)); !ok) return ok;
  } else if (v.is_object()) {
    for (const auto& member : v.get_object()) {
      std::string_view key = member.key();
      if (auto bad = invalid_utf8_at(key))
        return refuse(key, *bad, field.empty() ? "(a key)" : fmt::format("{} (a key)", field));
      if (auto ok = check_utf8(member.value(), field.empty() ? std::string(key) : fmt::format("{}.{}", field, key));
          !ok)
        return ok;
    }
  }
  return ok_status();
}

Status check_fields(const json::object& obj) {
  static const std::set<std::string_view> known = {"kpi", "period", "dims", "value", "items", "body", "source", "note"};
  for (const auto& member : obj)
    if (!known.contains(member.key()))
      return fail(ErrorCode::unknown_field,
                  fmt::format("unknown field \"{}\" (known: kpi, period, dims, value, items, body, source, note)",
                              std::string_view(member.key())),
                  std::string(member.key()));
  return ok_status();
}

// One entry of "dims": a dimension of the KPI and one of its values.
Status read_dim(const Kpi& kpi, std::string_view name, const json::value& value, Dims& out) {
  auto field = [&] { return fmt::format("dims.{}", name); };  // for errors only: rows that pass build no text
  const Dimension* dim = kpi.dimension(name);
  if (!dim) {
    std::string allowed;
    for (const auto& d : kpi.dims) allowed += (allowed.empty() ? "" : ", ") + d.name;
    return fail(ErrorCode::unknown_dimension,
                fmt::format("KPI \"{}\" has no dimension \"{}\" ({})", kpi.id, name,
                            allowed.empty() ? "it has no dimensions" : "it has: " + allowed),
                field());
  }
  if (!value.is_string()) return wrong_type(field(), "a string", value);
  if (!dim->allows(value.get_string()))
    return fail(ErrorCode::invalid_dimension_value,
                fmt::format("\"{}\" is not a value of dimension \"{}\" of KPI \"{}\" (allowed: {})",
                            std::string_view(value.get_string()), dim->name, kpi.id, fmt::join(dim->values, ", ")),
                field());
  out[dim->name] = std::string(value.get_string());
  return ok_status();
}

// "dims", then the defaults of the dimensions it leaves out.
Status read_dims(const json::object& obj, const Kpi& kpi, Dims& out) {
  if (const json::value* dims = obj.if_contains("dims"); dims && !dims->is_null()) {
    if (!dims->is_object()) return wrong_type("dims", "an object of dimension names to values", *dims);
    for (const auto& [name, value] : dims->get_object())
      if (auto dim = read_dim(kpi, name, value, out); !dim) return dim.error();
  }
  for (const auto& dim : kpi.dims) {
    if (out.contains(dim.name)) continue;
    if (!dim.default_value)
      return fail(
          ErrorCode::missing_dimension,
          fmt::format("KPI \"{}\" needs dimension \"{}\" (one of: {})", kpi.id, dim.name, fmt::join(dim.values, ", ")),
          "dims." + dim.name);
    out[dim.name] = *dim.default_value;
  }
  return ok_status();
}

// The figure of an item-list KPI: "items", distinct non-empty strings.
Status read_items(const json::object& obj, const Kpi& kpi, const ValidationLimits& limits,
                  std::vector<std::string>& out) {
  if (obj.contains("value"))
    return fail(ErrorCode::unexpected_field,
                fmt::format("KPI \"{}\" is an item list: give \"items\", not \"value\"", kpi.id), "value");
  const json::value* items = obj.if_contains("items");
  if (!items)
    return fail(ErrorCode::missing_field, fmt::format("KPI \"{}\" is an item list: \"items\" is required", kpi.id),
                "items");
  if (!items->is_array()) return wrong_type("items", "an array of strings", *items);
  const auto& array = items->get_array();
  if (array.size() > limits.max_items)
    return fail(ErrorCode::too_many_items,
                fmt::format("\"items\" has {} entries; at most {}", array.size(), limits.max_items), "items");
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < array.size(); ++i) {
    std::string field = fmt::format("items[{}]", i);
    if (!array[i].is_string()) return wrong_type(field, "a string", array[i]);
    std::string_view item = array[i].get_string();
    // " ", a tab or a full-width space (U+3000) would be a new item that shows nothing.
    if (is_blank(item)) return fail(ErrorCode::invalid_item, "an item must not be empty or only white space", field);
    if (item.size() > limits.max_text)
      return fail(ErrorCode::text_too_long, fmt::format("an item is longer than {} bytes", limits.max_text), field);
    if (!seen.insert(item).second)
      return fail(ErrorCode::duplicate_item, fmt::format("item \"{}\" is listed twice", item), field);
    out.emplace_back(item);
  }
  return ok_status();
}

// A JSON number as a double, and whether it is a whole number.
std::optional<std::pair<double, bool>> number_of(const json::value& value) {
  switch (value.kind()) {
    case json::kind::int64:
      return std::pair{static_cast<double>(value.get_int64()), true};
    case json::kind::uint64:
      return std::pair{static_cast<double>(value.get_uint64()), true};
    case json::kind::double_:
      return std::pair{value.get_double(), std::trunc(value.get_double()) == value.get_double()};
    default:
      return std::nullopt;
  }
}

// The figure of a number KPI: "value", finite, whole for counts, within the KPI's range.
Status read_value(const json::object& obj, const Kpi& kpi, std::optional<double>& out) {
  if (obj.contains("items"))
    return fail(ErrorCode::unexpected_field,
                fmt::format("KPI \"{}\" is a number ({}): give \"value\", not \"items\"", kpi.id, to_string(kpi.unit)),
                "items");
  const json::value* value = obj.if_contains("value");
  if (!value) return fail(ErrorCode::missing_field, "\"value\" is required", "value");
  auto number = number_of(*value);
  if (!number) return wrong_type("value", "a number", *value);
  auto [v, integral] = *number;
  if (!std::isfinite(v)) return fail(ErrorCode::not_finite, "\"value\" must be a finite number", "value");
  if (kpi.unit == Unit::count && !integral)
    return fail(ErrorCode::not_integer,
                fmt::format("KPI \"{}\" counts: \"value\" must be a whole number, not {}", kpi.id, v), "value");
  if ((kpi.min && v < *kpi.min) || (kpi.max && v > *kpi.max))
    return fail(ErrorCode::out_of_range,
                fmt::format("\"value\" {} is outside the valid range of KPI \"{}\" ({} to {} {})", v, kpi.id,
                            kpi.min ? fmt::format("{}", *kpi.min) : "-inf",
                            kpi.max ? fmt::format("{}", *kpi.max) : "+inf", to_string(kpi.unit)),
                "value");
  out = v;
  return ok_status();
}

// "body" (one that reports the KPI), "source" and "note".
Status read_texts(const json::object& obj, const Kpi& kpi, const ValidationLimits& limits, Submission& s) {
  auto body = text_field(obj, "body", false, limits);
  if (!body) return body.error();
  s.body = body.value();
  if (!s.body.empty() && !kpi.submittable_by(s.body))
    return fail(ErrorCode::body_not_allowed,
                fmt::format("reporting body \"{}\" does not report KPI \"{}\" (it is reported by: {})", s.body, kpi.id,
                            fmt::join(kpi.bodies, ", ")),
                "body");
  auto source = text_field(obj, "source", false, limits);
  if (!source) return source.error();
  s.source = source.value();
  auto note = text_field(obj, "note", false, limits);
  if (!note) return note.error();
  s.note = note.value();
  return ok_status();
}

}  // namespace

Result<Submission> parse_submission(const Catalog& catalog, const json::value& input, const ValidationLimits& limits) {
  if (!input.is_object())
    return fail(ErrorCode::invalid_type, fmt::format("a submission must be an object, not {}", kind_name(input)));
  const auto& obj = input.get_object();
  if (auto utf8 = check_utf8(input, ""); !utf8) return utf8.error();
  if (auto known = check_fields(obj); !known) return known.error();

  Submission s;
  auto kpi_id = text_field(obj, "kpi", true, limits);
  if (!kpi_id) return kpi_id.error();
  s.kpi = kpi_id.value();
  const Kpi* kpi = catalog.find(s.kpi);
  if (!kpi) return fail(ErrorCode::unknown_kpi, fmt::format("unknown KPI \"{}\"", s.kpi), "kpi");

  auto period = text_field(obj, "period", true, limits);
  if (!period) return period.error();
  auto parsed_period = parse_period(period.value(), kpi->period);
  if (!parsed_period) return parsed_period.error();
  s.period = parsed_period.value();

  if (auto dims = read_dims(obj, *kpi, s.dims); !dims) return dims.error();
  auto figure = kpi->is_items() ? read_items(obj, *kpi, limits, s.items) : read_value(obj, *kpi, s.value);
  if (!figure) return figure.error();
  if (auto texts = read_texts(obj, *kpi, limits, s); !texts) return texts.error();
  return s;
}

Status check_unique(const std::vector<Submission>& batch) {
  std::map<std::tuple<std::string_view, std::string, int>, std::size_t> seen;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& s = batch[i];
    auto [it, inserted] =
        seen.emplace(std::make_tuple(std::string_view(s.kpi), dims_key(s.dims), s.period.ordinal()), i);
    if (!inserted) {
      Error e = fail(ErrorCode::duplicate_entry,
                     fmt::format("entry repeats KPI \"{}\" period {} dims {{{}}} of entry {}", s.kpi, s.period.str(),
                                 dims_key(s.dims), it->second),
                     "");
      e.index = i;
      return e;
    }
  }
  return ok_status();
}

Result<std::vector<Submission>> parse_submissions(const Catalog& catalog, std::string_view text,
                                                  const ValidationLimits& limits) {
  json::parse_options options;
  options.max_depth = 16;
  auto parsed = parse_json(text, options);
  if (!parsed) return located(parsed.error());
  json::value root = std::move(parsed.value());

  std::vector<Submission> batch;
  if (root.is_object() && root.get_object().contains("submissions")) {
    const auto& obj = root.get_object();
    if (obj.size() != 1)
      for (const auto& member : obj)
        if (member.key() != "submissions")
          return fail(ErrorCode::unknown_field,
                      fmt::format("unknown field \"{}\" beside \"submissions\"", std::string_view(member.key())),
                      std::string(member.key()));
    const auto& list = obj.at("submissions");
    if (!list.is_array()) return wrong_type("submissions", "an array", list);
    const auto& array = list.get_array();
    if (array.empty()) return fail(ErrorCode::empty_batch, "\"submissions\" is empty", "submissions");
    if (array.size() > limits.max_batch)
      return fail(ErrorCode::batch_too_large,
                  fmt::format("a batch holds at most {} submissions; this one has {}", limits.max_batch, array.size()),
                  "submissions");
    batch.reserve(array.size());
    for (std::size_t i = 0; i < array.size(); ++i) {
      auto s = parse_submission(catalog, array[i], limits);
      if (!s) {
        Error e = s.error();
        e.index = i;
        return e;
      }
      batch.push_back(std::move(s.value()));
    }
  } else {
    auto s = parse_submission(catalog, root, limits);
    if (!s) return s.error();
    batch.push_back(std::move(s.value()));
  }
  if (auto unique = check_unique(batch); !unique) return unique.error();
  return batch;
}

json::object to_json(const Revision& r, bool with_series) {
  const auto& s = r.submission;
  json::object o(11);  // every member below: no growing on the way
  o["id"] = r.id;
  if (with_series) {
    o["kpi"] = s.kpi;
    json::object dims;
    for (const auto& [k, v] : s.dims) dims[k] = v;
    o["dims"] = std::move(dims);
  }
  o["period"] = s.period.str();
  if (s.value) {
    // Whole numbers are written as JSON integers, as clients sent them.
    if (std::trunc(*s.value) == *s.value && std::fabs(*s.value) < 9.0e15)
      o["value"] = static_cast<std::int64_t>(*s.value);
    else
      o["value"] = *s.value;
  } else {
    json::array items;
    for (const auto& i : s.items) items.emplace_back(i);
    o["items"] = std::move(items);
  }
  o["revision"] = r.revision;
  if (!s.body.empty()) o["body"] = s.body;
  if (!s.source.empty()) o["source"] = s.source;
  if (!s.note.empty()) o["note"] = s.note;
  o["submitted_by"] = r.submitted_by;
  o["received_at"] = r.received_at;
  return o;
}

}  // namespace kpiwatch
