#include "expression.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <variant>

namespace kpiwatch {
namespace {

constexpr int kMaxDepth = 64;
constexpr int kMaxWindow = 120;
// Figures one evaluation may read: windows multiply what they hold, so that nested ones
// (avg(avg(avg(value, 120), 120), 120)) would stall the evaluator; two of the longest may nest.
constexpr double kMaxReads = double{kMaxWindow} * kMaxWindow;

// The figures an evaluation of `e` reads at most.
double reads(const Expr& e) {
  if (e.kind == Expr::Kind::kpi || e.kind == Expr::Kind::value) return 1;
  double n = 0;
  for (const auto& a : e.args) n += reads(*a);
  return e.kind == Expr::Kind::call && e.window > 0 ? n * e.window : n;
}

// The innermost part of `e` that reads more than kMaxReads, for the error's position.
const Expr& costliest(const Expr& e) {
  for (const auto& a : e.args)
    if (reads(*a) > kMaxReads) return costliest(*a);
  return e;
}

enum class OpClass { additive, multiplicative, comparison, logic, function };

struct OpName {
  Expr::Op op;
  std::string_view name;
  OpClass cls;
};

// Every binary operator and function, by the name an expression writes.
constexpr OpName kOps[] = {
    {Expr::Op::plus, "+", OpClass::additive},
    {Expr::Op::minus, "-", OpClass::additive},
    {Expr::Op::times, "*", OpClass::multiplicative},
    {Expr::Op::divided_by, "/", OpClass::multiplicative},
    {Expr::Op::less, "<", OpClass::comparison},
    {Expr::Op::less_or_equal, "<=", OpClass::comparison},
    {Expr::Op::greater, ">", OpClass::comparison},
    {Expr::Op::greater_or_equal, ">=", OpClass::comparison},
    {Expr::Op::equal, "==", OpClass::comparison},
    {Expr::Op::not_equal, "!=", OpClass::comparison},
    {Expr::Op::and_, "and", OpClass::logic},
    {Expr::Op::or_, "or", OpClass::logic},
    {Expr::Op::previous, "previous", OpClass::function},
    {Expr::Op::avg, "avg", OpClass::function},
    {Expr::Op::min, "min", OpClass::function},
    {Expr::Op::max, "max", OpClass::function},
    {Expr::Op::count, "count", OpClass::function},
};

const OpName* find_op(std::string_view name) {
  for (const auto& op : kOps)
    if (op.name == name) return &op;
  return nullptr;
}

OpClass class_of(Expr::Op op) {
  for (const auto& o : kOps)
    if (o.op == op) return o.cls;
  return OpClass::function;
}

// The longest operator written of symbols at the start of `text`, if any.
const OpName* symbol_at(std::string_view text) {
  const OpName* found = nullptr;
  for (const auto& op : kOps)
    if (op.cls != OpClass::logic && op.cls != OpClass::function && text.starts_with(op.name) &&
        (!found || op.name.size() > found->name.size()))
      found = &op;
  return found;
}

struct Token {
  enum class Kind { end, number, name, string, op, lparen, rparen, lbrace, rbrace, comma, assign } kind = Kind::end;
  std::string text;
  double number = 0;
  std::size_t offset = 0;
};

class Parser {
 public:
  Parser(std::string_view text, const Catalog& catalog, const Kpi& watched)
      : text_(text), catalog_(catalog), watched_(watched) {}

  std::variant<std::unique_ptr<Expr>, ExprError> run() {
    if (!lex()) return error_;
    auto expr = parse_or();
    if (!expr) return error_;
    if (peek().kind != Token::Kind::end) return ExprError{peek().offset, fmt::format("unexpected \"{}\"", peek().text)};
    if (double n = reads(*expr); n > kMaxReads)
      return ExprError{costliest(*expr).offset,
                       fmt::format("the expression reads up to {:.0f} figures per evaluation, more than {:.0f}: "
                                   "nest fewer or shorter windows",
                                   n, kMaxReads)};
    return expr;
  }

 private:
  bool fail(std::size_t offset, std::string message) {
    if (error_.message.empty()) error_ = {offset, std::move(message)};
    return false;
  }

  bool lex() {
    std::size_t i = 0;
    while (i < text_.size()) {
      char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      Token t;
      t.offset = i;
      if (!lex_token(i, t)) return false;
      tokens_.push_back(std::move(t));
    }
    tokens_.push_back({Token::Kind::end, "end of expression", 0, text_.size()});
    return true;
  }

  // Each lex_ function reads the token at `i` into `t` and moves `i` past it.
  bool lex_token(std::size_t& i, Token& t) {
    auto c = static_cast<unsigned char>(text_[i]);
    if (std::isdigit(c)) return lex_number(i, t);
    if (std::isalpha(c) || c == '_') return lex_name(i, t);
    if (c == '"') return lex_string(i, t);
    return lex_symbol(i, t);
  }

  bool lex_number(std::size_t& i, Token& t) {
    std::size_t end = i;
    while (end < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[end])) || text_[end] == '.')) ++end;
    auto [p, ec] = std::from_chars(text_.data() + i, text_.data() + end, t.number);
    if (ec != std::errc{} || p != text_.data() + end) return fail(i, "malformed number");
    t.kind = Token::Kind::number;
    t.text = std::string(text_.substr(i, end - i));
    i = end;
    return true;
  }

  bool lex_name(std::size_t& i, Token& t) {
    std::size_t end = i;
    while (end < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_' || text_[end] == '.'))
      ++end;
    t.kind = Token::Kind::name;
    t.text = std::string(text_.substr(i, end - i));
    i = end;
    return true;
  }

  bool lex_string(std::size_t& i, Token& t) {
    auto close = text_.find('"', i + 1);
    if (close == std::string_view::npos) return fail(i, "unclosed string");
    t.kind = Token::Kind::string;
    t.text = std::string(text_.substr(i + 1, close - i - 1));
    i = close + 1;
    return true;
  }

  bool lex_symbol(std::size_t& i, Token& t) {
    if (const OpName* op = symbol_at(text_.substr(i))) {
      t.kind = Token::Kind::op;
      t.text = std::string(op->name);
      i += op->name.size();
      return true;
    }
    static constexpr std::pair<char, Token::Kind> punctuation[] = {
        {'(', Token::Kind::lparen}, {')', Token::Kind::rparen}, {'{', Token::Kind::lbrace},
        {'}', Token::Kind::rbrace}, {',', Token::Kind::comma},  {'=', Token::Kind::assign}};
    char c = text_[i];
    for (auto [symbol, kind] : punctuation)
      if (c == symbol) {
        t.kind = kind;
        t.text = std::string(1, c);
        ++i;
        return true;
      }
    return fail(i, fmt::format("unexpected character \"{}\"", text_.substr(i, utf8_length(text_, i))));
  }

  // Bytes of the UTF-8 character at `i`, so that an error quotes all of "＞", not its first byte.
  static std::size_t utf8_length(std::string_view text, std::size_t i) {
    auto lead = static_cast<unsigned char>(text[i]);
    std::size_t n = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    std::size_t end = i + 1;
    while (end < text.size() && end < i + n && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    return end - i;
  }

  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_++]; }
  bool accept_name(std::string_view name) {
    if (peek().kind == Token::Kind::name && peek().text == name) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool expect(Token::Kind kind, std::string_view what) {
    if (peek().kind == kind) {
      ++pos_;
      return true;
    }
    return fail(peek().offset, fmt::format("expected {} but found \"{}\"", what, peek().text));
  }

  std::unique_ptr<Expr> node(Expr::Kind kind, std::size_t offset) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->offset = offset;
    return e;
  }

  // The operator the next token names, if it names one.
  std::optional<Expr::Op> peek_op() const {
    if (peek().kind != Token::Kind::op && peek().kind != Token::Kind::name) return std::nullopt;
    const OpName* op = find_op(peek().text);
    return op ? std::optional(op->op) : std::nullopt;
  }
  bool peek_op_of(OpClass cls) const {
    auto op = peek_op();
    return op && class_of(*op) == cls;
  }

  std::unique_ptr<Expr> binary(Expr::Op op, std::unique_ptr<Expr> lhs, std::unique_ptr<Expr> rhs, std::size_t offset) {
    auto e = node(Expr::Kind::binary, offset);
    e->op = op;
    e->args.push_back(std::move(lhs));
    e->args.push_back(std::move(rhs));
    return e;
  }

  bool deeper() { return deeper_at(peek().offset); }
  bool deeper_at(std::size_t offset) {
    if (++depth_ > kMaxDepth) return fail(offset, fmt::format("expression nested deeper than {}", kMaxDepth));
    return true;
  }

  // The levels one chain of operators adds, given back when the chain ends.
  class Chain {
   public:
    explicit Chain(Parser& parser) : parser_(parser) {}
    Chain(const Chain&) = delete;
    Chain& operator=(const Chain&) = delete;
    ~Chain() { parser_.depth_ -= links_; }
    bool link(std::size_t offset) {
      ++links_;
      return parser_.deeper_at(offset);
    }

   private:
    Parser& parser_;
    int links_ = 0;
  };

  // Depth counts the constructs that nest: parentheses, calls, unary minus and not, and each
  // operator of a chain (a + b + c is (a + b) + c): evaluating, collecting and freeing a tree
  // recurse once per level.
  std::unique_ptr<Expr> parse_or() {
    auto lhs = parse_and();
    Chain chain(*this);
    while (lhs && peek_op() == Expr::Op::or_) {
      auto offset = next().offset;
      if (!chain.link(offset)) return nullptr;
      auto rhs = parse_and();
      if (!rhs) return nullptr;
      lhs = binary(Expr::Op::or_, std::move(lhs), std::move(rhs), offset);
    }
    return lhs;
  }

  std::unique_ptr<Expr> parse_and() {
    auto lhs = parse_not();
    Chain chain(*this);
    while (lhs && peek_op() == Expr::Op::and_) {
      auto offset = next().offset;
      if (!chain.link(offset)) return nullptr;
      auto rhs = parse_not();
      if (!rhs) return nullptr;
      lhs = binary(Expr::Op::and_, std::move(lhs), std::move(rhs), offset);
    }
    return lhs;
  }

  std::unique_ptr<Expr> parse_not() {
    if (peek().kind == Token::Kind::name && peek().text == "not") {
      auto offset = next().offset;
      if (!deeper()) return nullptr;
      auto operand = parse_not();
      --depth_;
      if (!operand) return nullptr;
      auto e = node(Expr::Kind::not_, offset);
      e->args.push_back(std::move(operand));
      return e;
    }
    return parse_comparison();
  }

  std::unique_ptr<Expr> parse_comparison() {
    auto lhs = parse_additive();
    if (!lhs || !peek_op_of(OpClass::comparison)) return lhs;
    auto op = *peek_op();
    auto offset = next().offset;
    auto rhs = parse_additive();
    if (!rhs) return nullptr;
    return binary(op, std::move(lhs), std::move(rhs), offset);
  }

  std::unique_ptr<Expr> parse_additive() {
    auto lhs = parse_multiplicative();
    Chain chain(*this);
    while (lhs && peek_op_of(OpClass::additive)) {
      auto op = *peek_op();
      auto offset = next().offset;
      if (!chain.link(offset)) return nullptr;
      auto rhs = parse_multiplicative();
      if (!rhs) return nullptr;
      lhs = binary(op, std::move(lhs), std::move(rhs), offset);
    }
    return lhs;
  }

  std::unique_ptr<Expr> parse_multiplicative() {
    auto lhs = parse_unary();
    Chain chain(*this);
    while (lhs && peek_op_of(OpClass::multiplicative)) {
      auto op = *peek_op();
      auto offset = next().offset;
      if (!chain.link(offset)) return nullptr;
      auto rhs = parse_unary();
      if (!rhs) return nullptr;
      lhs = binary(op, std::move(lhs), std::move(rhs), offset);
    }
    return lhs;
  }

  std::unique_ptr<Expr> parse_unary() {
    if (peek().kind == Token::Kind::op && peek_op() == Expr::Op::minus) {
      auto offset = next().offset;
      if (!deeper()) return nullptr;
      auto operand = parse_unary();
      --depth_;
      if (!operand) return nullptr;
      auto e = node(Expr::Kind::neg, offset);
      e->args.push_back(std::move(operand));
      return e;
    }
    return parse_primary();
  }

  std::unique_ptr<Expr> parse_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Token::Kind::number: {
        auto e = node(Expr::Kind::number, t.offset);
        e->number = t.number;
        next();
        return e;
      }
      case Token::Kind::lparen: {
        next();
        if (!deeper()) return nullptr;
        auto e = parse_or();
        --depth_;
        if (!e || !expect(Token::Kind::rparen, "\")\"")) return nullptr;
        return e;
      }
      case Token::Kind::name:
        return parse_name();
      default:
        fail(t.offset, fmt::format("expected a number, a KPI or \"(\" but found \"{}\"", t.text));
        return nullptr;
    }
  }

  // value, a function call or a KPI reference.
  std::unique_ptr<Expr> parse_name() {
    Token t = next();
    if (t.text == "value") {
      auto e = node(Expr::Kind::value, t.offset);
      e->kpi = &watched_;
      return e;
    }
    if (const OpName* f = find_op(t.text); f && f->cls == OpClass::function) return parse_call(t, f->op);
    if (t.text == "and" || t.text == "or" || t.text == "not") {
      fail(t.offset, fmt::format("\"{}\" needs an operand before it", t.text));
      return nullptr;
    }
    return parse_kpi(t);
  }

  // After the function's name `t`: (argument) or, for avg/min/max, (argument, window).
  std::unique_ptr<Expr> parse_call(const Token& t, Expr::Op function) {
    if (!expect(Token::Kind::lparen, fmt::format("\"(\" after {}", t.text))) return nullptr;
    if (!deeper()) return nullptr;
    auto arg = parse_or();
    --depth_;
    if (!arg) return nullptr;
    auto e = node(Expr::Kind::call, t.offset);
    e->op = function;
    if (function == Expr::Op::count &&
        !((arg->kind == Expr::Kind::kpi || arg->kind == Expr::Kind::value) && arg->kpi->is_items())) {
      fail(arg->offset, "count() takes an item-list KPI");
      return nullptr;
    }
    bool windowed = function == Expr::Op::avg || function == Expr::Op::min || function == Expr::Op::max;
    if (windowed && !parse_window(t.text, *e)) return nullptr;
    if (!expect(Token::Kind::rparen, "\")\"")) return nullptr;
    e->args.push_back(std::move(arg));
    return e;
  }

  // ", N" after the argument of avg/min/max.
  bool parse_window(const std::string& function, Expr& e) {
    if (!expect(Token::Kind::comma, fmt::format("\",\" and a number of periods in {}()", function))) return false;
    const Token& n = peek();
    if (n.kind != Token::Kind::number || n.number < 1 || n.number > kMaxWindow || std::trunc(n.number) != n.number)
      return fail(n.offset,
                  fmt::format("the window of {}() must be a whole number of periods, 1–{}", function, kMaxWindow));
    e.window = static_cast<int>(n.number);
    next();
    return true;
  }

  // A KPI named by `t`, with an optional {dim="value", ...} selector.
  std::unique_ptr<Expr> parse_kpi(const Token& t) {
    const Kpi* kpi = catalog_.find(t.text);
    if (!kpi) {
      fail(t.offset, fmt::format("unknown KPI or function \"{}\"", t.text));
      return nullptr;
    }
    if (kpi->period != watched_.period) {
      fail(t.offset, fmt::format("KPI \"{}\" is reported per {}, but the rule watches a KPI reported per {}", kpi->id,
                                 to_string(kpi->period), to_string(watched_.period)));
      return nullptr;
    }
    auto e = node(Expr::Kind::kpi, t.offset);
    e->kpi = kpi;
    if (peek().kind == Token::Kind::lbrace && !parse_selector(*kpi, e->selector)) return nullptr;
    for (const auto& dim : kpi->dims) {
      if (e->selector.contains(dim.name) || watched_.dimension(dim.name) || dim.default_value) continue;
      fail(t.offset, fmt::format("KPI \"{}\" needs a value for dimension \"{}\": write {}{{{}=\"...\"}}", kpi->id,
                                 dim.name, kpi->id, dim.name));
      return nullptr;
    }
    e->same_dims = e->selector.empty() && kpi->dims.size() == watched_.dims.size() &&
                   std::all_of(kpi->dims.begin(), kpi->dims.end(), [&](const Dimension& d) {
                     const Dimension* w = watched_.dimension(d.name);
                     return w && w->values == d.values;
                   });
    return e;
  }

  // {dim="value", ...}, from its opening brace.
  bool parse_selector(const Kpi& kpi, Dims& selector) {
    next();
    while (peek().kind != Token::Kind::rbrace) {
      const Token& name = peek();
      if (name.kind != Token::Kind::name) return fail(name.offset, "expected a dimension name in {...}");
      next();
      const Dimension* dim = kpi.dimension(name.text);
      if (!dim) return fail(name.offset, fmt::format("KPI \"{}\" has no dimension \"{}\"", kpi.id, name.text));
      if (!expect(Token::Kind::assign, "\"=\"")) return false;
      const Token& value = peek();
      if (value.kind != Token::Kind::string || !dim->allows(value.text))
        return fail(value.offset, fmt::format("expected a quoted value of dimension \"{}\" (one of: {})", dim->name,
                                              fmt::join(dim->values, ", ")));
      selector[dim->name] = value.text;
      next();
      if (peek().kind == Token::Kind::comma) next();
    }
    next();
    return true;
  }

  std::string_view text_;
  const Catalog& catalog_;
  const Kpi& watched_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  ExprError error_;
};

// The key of the series a KPI reference reads from the watched series (of
// `watched_key`): the selector's dims, the watched series' values its KPI allows,
// defaults for the rest. Built in a buffer of the thread, so that evaluating
// allocates nothing once it has grown.
std::string_view referenced_key(const Expr& e, std::string_view watched_key) {
  if (e.same_dims) return watched_key;
  thread_local std::vector<std::pair<std::string_view, std::string_view>> parts;
  thread_local std::string key;
  parts.clear();
  for (const auto& [name, value] : e.selector) parts.emplace_back(name, value);
  for (const auto& dim : e.kpi->dims) {
    if (e.selector.contains(dim.name)) continue;
    if (auto v = key_value(watched_key, dim.name); v.data() != nullptr && dim.allows(v))
      parts.emplace_back(dim.name, v);
    else if (dim.default_value)
      parts.emplace_back(dim.name, *dim.default_value);
  }
  std::sort(parts.begin(), parts.end());  // dims_key's order: by name
  key.clear();
  for (const auto& [name, value] : parts) {
    if (!key.empty()) key += ',';
    key += name;
    key += '=';
    key += value;
  }
  return key;
}

std::optional<double> value_of(const Expr& e, const ExprContext& ctx, const Period& period) {
  if (e.kind == Expr::Kind::value) {
    const SeriesPoint* p = ctx.watched.at(period);
    if (!p) return std::nullopt;
    return e.kpi->is_items() ? std::optional<double>(static_cast<double>(p->items().size())) : p->value();
  }
  const Series* series = ctx.index.find_key(e.kpi->id, referenced_key(e, ctx.watched.key));
  if (!series) return std::nullopt;
  const SeriesPoint* p = series->at(period);
  if (!p) return std::nullopt;
  if (e.kpi->is_items()) return static_cast<double>(p->items().size());
  return p->value();
}

std::optional<double> evaluate_window(const Expr& e, const ExprContext& ctx, const Period& period) {
  const Expr& arg = *e.args[0];
  double acc = 0;
  Period p = period;
  for (int i = 0; i < e.window; ++i, p = p.previous()) {
    auto v = evaluate(arg, ctx, p);
    if (!v) return std::nullopt;
    if (i == 0)
      acc = *v;
    else if (e.op == Expr::Op::avg)
      acc += *v;
    else if (e.op == Expr::Op::min)
      acc = std::min(acc, *v);
    else
      acc = std::max(acc, *v);
  }
  return e.op == Expr::Op::avg ? acc / e.window : acc;
}

std::optional<double> evaluate_call(const Expr& e, const ExprContext& ctx, const Period& period) {
  if (e.op == Expr::Op::previous) return evaluate(*e.args[0], ctx, period.previous());
  if (e.op == Expr::Op::count) return evaluate(*e.args[0], ctx, period);
  return evaluate_window(e, ctx, period);
}

std::optional<double> truth(bool b) { return b ? 1.0 : 0.0; }

// Both sides known.
std::optional<double> apply(Expr::Op op, double a, double b) {
  switch (op) {
    case Expr::Op::plus:
      return a + b;
    case Expr::Op::minus:
      return a - b;
    case Expr::Op::times:
      return a * b;
    case Expr::Op::divided_by:
      return b == 0 ? std::nullopt : std::optional<double>(a / b);
    case Expr::Op::less:
      return truth(a < b);
    case Expr::Op::less_or_equal:
      return truth(a <= b);
    case Expr::Op::greater:
      return truth(a > b);
    case Expr::Op::greater_or_equal:
      return truth(a >= b);
    case Expr::Op::equal:
      return truth(a == b);
    case Expr::Op::not_equal:
      return truth(a != b);
    case Expr::Op::and_:
      return truth(a != 0 && b != 0);
    case Expr::Op::or_:
      return truth(a != 0 || b != 0);
    default:
      return std::nullopt;
  }
}

// A side that decides and/or on its own: false for and, true for or.
bool decides(Expr::Op op, const std::optional<double>& side) {
  return side && ((op == Expr::Op::and_ && *side == 0) || (op == Expr::Op::or_ && *side != 0));
}

std::optional<double> evaluate_binary(const Expr& e, const ExprContext& ctx, const Period& period) {
  auto lhs = evaluate(*e.args[0], ctx, period);
  if (decides(e.op, lhs)) return truth(e.op == Expr::Op::or_);
  auto rhs = evaluate(*e.args[1], ctx, period);
  // A decisive side decides even if the other cannot be evaluated, in either order.
  if (decides(e.op, rhs)) return truth(e.op == Expr::Op::or_);
  if (!lhs || !rhs) return std::nullopt;
  return apply(e.op, *lhs, *rhs);
}

}  // namespace

bool Expr::is_boolean() const {
  switch (kind) {
    case Kind::not_:
      return true;
    case Kind::binary:
      return class_of(op) == OpClass::comparison || class_of(op) == OpClass::logic;
    default:
      return false;
  }
}

std::variant<std::unique_ptr<Expr>, ExprError> parse_expression(std::string_view text, const Catalog& catalog,
                                                                const Kpi& watched) {
  return Parser(text, catalog, watched).run();
}

void collect_kpis(const Expr& expr, std::vector<const Kpi*>& out) {
  if (expr.kind == Expr::Kind::kpi || expr.kind == Expr::Kind::value) out.push_back(expr.kpi);
  for (const auto& a : expr.args) collect_kpis(*a, out);
}

std::optional<double> evaluate(const Expr& e, const ExprContext& ctx, const Period& period) {
  switch (e.kind) {
    case Expr::Kind::number:
      return e.number;
    case Expr::Kind::kpi:
    case Expr::Kind::value:
      return value_of(e, ctx, period);
    case Expr::Kind::neg: {
      auto v = evaluate(*e.args[0], ctx, period);
      return v ? std::optional<double>(-*v) : std::nullopt;
    }
    case Expr::Kind::not_: {
      auto v = evaluate(*e.args[0], ctx, period);
      return v ? std::optional<double>(*v == 0 ? 1.0 : 0.0) : std::nullopt;
    }
    case Expr::Kind::call:
      return evaluate_call(e, ctx, period);
    case Expr::Kind::binary:
      return evaluate_binary(e, ctx, period);
  }
  return std::nullopt;
}

const Expr* comparison_lhs(const Expr& expr) {
  if (expr.kind == Expr::Kind::binary && class_of(expr.op) == OpClass::comparison) return expr.args[0].get();
  return nullptr;
}

}  // namespace kpiwatch
