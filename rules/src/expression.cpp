#include "expression.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <variant>

namespace kpiwatch {
namespace {

constexpr int kMaxDepth = 64;
constexpr int kMaxWindow = 120;

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
      if (std::isdigit(static_cast<unsigned char>(c))) {
        std::size_t end = i;
        while (end < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[end])) || text_[end] == '.')) ++end;
        auto [p, ec] = std::from_chars(text_.data() + i, text_.data() + end, t.number);
        if (ec != std::errc{} || p != text_.data() + end) return fail(i, "malformed number");
        t.kind = Token::Kind::number;
        t.text = std::string(text_.substr(i, end - i));
        i = end;
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        std::size_t end = i;
        while (end < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_' || text_[end] == '.'))
          ++end;
        t.kind = Token::Kind::name;
        t.text = std::string(text_.substr(i, end - i));
        i = end;
      } else if (c == '"') {
        auto close = text_.find('"', i + 1);
        if (close == std::string_view::npos) return fail(i, "unclosed string");
        t.kind = Token::Kind::string;
        t.text = std::string(text_.substr(i + 1, close - i - 1));
        i = close + 1;
      } else {
        static const std::string_view two[] = {"<=", ">=", "==", "!="};
        std::string_view rest = text_.substr(i);
        bool matched = false;
        for (auto op : two)
          if (rest.starts_with(op)) {
            t.kind = Token::Kind::op;
            t.text = std::string(op);
            i += 2;
            matched = true;
            break;
          }
        if (!matched) {
          t.text = std::string(1, c);
          switch (c) {
            case '+':
            case '-':
            case '*':
            case '/':
            case '<':
            case '>':
              t.kind = Token::Kind::op;
              break;
            case '(':
              t.kind = Token::Kind::lparen;
              break;
            case ')':
              t.kind = Token::Kind::rparen;
              break;
            case '{':
              t.kind = Token::Kind::lbrace;
              break;
            case '}':
              t.kind = Token::Kind::rbrace;
              break;
            case ',':
              t.kind = Token::Kind::comma;
              break;
            case '=':
              t.kind = Token::Kind::assign;
              break;
            default:
              return fail(i, fmt::format("unexpected character \"{}\"", c));
          }
          ++i;
        }
      }
      tokens_.push_back(std::move(t));
    }
    tokens_.push_back({Token::Kind::end, "end of expression", 0, text_.size()});
    return true;
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

  std::unique_ptr<Expr> binary(std::string op, std::unique_ptr<Expr> lhs, std::unique_ptr<Expr> rhs,
                               std::size_t offset) {
    auto e = node(Expr::Kind::binary, offset);
    e->op = std::move(op);
    e->args.push_back(std::move(lhs));
    e->args.push_back(std::move(rhs));
    return e;
  }

  bool deeper() {
    if (++depth_ > kMaxDepth) return fail(peek().offset, fmt::format("expression nested deeper than {}", kMaxDepth));
    return true;
  }

  // Depth counts the constructs that nest: parentheses, calls, unary minus and not.
  std::unique_ptr<Expr> parse_or() {
    auto lhs = parse_and();
    while (lhs && peek().kind == Token::Kind::name && peek().text == "or") {
      auto offset = next().offset;
      auto rhs = parse_and();
      if (!rhs) return nullptr;
      lhs = binary("or", std::move(lhs), std::move(rhs), offset);
    }
    return lhs;
  }

  std::unique_ptr<Expr> parse_and() {
    auto lhs = parse_not();
    while (lhs && peek().kind == Token::Kind::name && peek().text == "and") {
      auto offset = next().offset;
      auto rhs = parse_not();
      if (!rhs) return nullptr;
      lhs = binary("and", std::move(lhs), std::move(rhs), offset);
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
    if (!lhs) return nullptr;
    if (peek().kind == Token::Kind::op) {
      const auto& op = peek().text;
      if (op == "<" || op == "<=" || op == ">" || op == ">=" || op == "==" || op == "!=") {
        auto t = next();
        auto rhs = parse_additive();
        if (!rhs) return nullptr;
        return binary(t.text, std::move(lhs), std::move(rhs), t.offset);
      }
    }
    return lhs;
  }

  std::unique_ptr<Expr> parse_additive() {
    auto lhs = parse_multiplicative();
    while (lhs && peek().kind == Token::Kind::op && (peek().text == "+" || peek().text == "-")) {
      auto t = next();
      auto rhs = parse_multiplicative();
      if (!rhs) return nullptr;
      lhs = binary(t.text, std::move(lhs), std::move(rhs), t.offset);
    }
    return lhs;
  }

  std::unique_ptr<Expr> parse_multiplicative() {
    auto lhs = parse_unary();
    while (lhs && peek().kind == Token::Kind::op && (peek().text == "*" || peek().text == "/")) {
      auto t = next();
      auto rhs = parse_unary();
      if (!rhs) return nullptr;
      lhs = binary(t.text, std::move(lhs), std::move(rhs), t.offset);
    }
    return lhs;
  }

  std::unique_ptr<Expr> parse_unary() {
    if (peek().kind == Token::Kind::op && peek().text == "-") {
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

  std::unique_ptr<Expr> parse_name() {
    Token t = next();
    if (t.text == "value") {
      auto e = node(Expr::Kind::value, t.offset);
      e->kpi = &watched_;
      return e;
    }
    if (t.text == "previous" || t.text == "avg" || t.text == "min" || t.text == "max" || t.text == "count") {
      if (!expect(Token::Kind::lparen, fmt::format("\"(\" after {}", t.text))) return nullptr;
      if (!deeper()) return nullptr;
      auto arg = parse_or();
      --depth_;
      if (!arg) return nullptr;
      auto e = node(Expr::Kind::call, t.offset);
      e->op = t.text;
      if (t.text == "count" &&
          !((arg->kind == Expr::Kind::kpi || arg->kind == Expr::Kind::value) && arg->kpi->is_items())) {
        fail(arg->offset, "count() takes an item-list KPI");
        return nullptr;
      }
      if (t.text == "avg" || t.text == "min" || t.text == "max") {
        if (!expect(Token::Kind::comma, fmt::format("\",\" and a number of periods in {}()", t.text))) return nullptr;
        const Token& n = peek();
        if (n.kind != Token::Kind::number || n.number < 1 || n.number > kMaxWindow ||
            std::trunc(n.number) != n.number) {
          fail(n.offset, fmt::format("the window of {}() must be a whole number of periods, 1–{}", t.text, kMaxWindow));
          return nullptr;
        }
        e->window = static_cast<int>(n.number);
        next();
      }
      if (!expect(Token::Kind::rparen, "\")\"")) return nullptr;
      e->args.push_back(std::move(arg));
      return e;
    }
    if (t.text == "and" || t.text == "or" || t.text == "not") {
      fail(t.offset, fmt::format("\"{}\" needs an operand before it", t.text));
      return nullptr;
    }
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
    if (peek().kind == Token::Kind::lbrace) {
      next();
      while (peek().kind != Token::Kind::rbrace) {
        const Token& name = peek();
        if (name.kind != Token::Kind::name) {
          fail(name.offset, "expected a dimension name in {...}");
          return nullptr;
        }
        next();
        const Dimension* dim = kpi->dimension(name.text);
        if (!dim) {
          fail(name.offset, fmt::format("KPI \"{}\" has no dimension \"{}\"", kpi->id, name.text));
          return nullptr;
        }
        if (!expect(Token::Kind::assign, "\"=\"")) return nullptr;
        const Token& value = peek();
        if (value.kind != Token::Kind::string || !dim->allows(value.text)) {
          fail(value.offset, fmt::format("expected a quoted value of dimension \"{}\" (one of: {})", dim->name,
                                         fmt::join(dim->values, ", ")));
          return nullptr;
        }
        e->selector[dim->name] = value.text;
        next();
        if (peek().kind == Token::Kind::comma) next();
      }
      next();
    }
    for (const auto& dim : kpi->dims) {
      if (e->selector.contains(dim.name) || watched_.dimension(dim.name) || dim.default_value) continue;
      fail(t.offset, fmt::format("KPI \"{}\" needs a value for dimension \"{}\": write {}{{{}=\"...\"}}", kpi->id,
                                 dim.name, kpi->id, dim.name));
      return nullptr;
    }
    return e;
  }

  std::string_view text_;
  const Catalog& catalog_;
  const Kpi& watched_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  ExprError error_;
};

std::optional<double> value_of(const Expr& e, const ExprContext& ctx, const Period& period) {
  if (e.kind == Expr::Kind::value) {
    const Point* p = ctx.watched.at(period);
    if (!p) return std::nullopt;
    return e.kpi->is_items() ? std::optional<double>(static_cast<double>(p->items.size())) : p->value;
  }
  Dims dims = e.selector;
  for (const auto& dim : e.kpi->dims) {
    if (dims.contains(dim.name)) continue;
    if (auto it = ctx.watched.dims.find(dim.name); it != ctx.watched.dims.end() && dim.allows(it->second))
      dims[dim.name] = it->second;
    else if (dim.default_value)
      dims[dim.name] = *dim.default_value;
  }
  const Series* series = ctx.index.find(e.kpi->id, dims);
  if (!series) return std::nullopt;
  const Point* p = series->at(period);
  if (!p) return std::nullopt;
  if (e.kpi->is_items()) return static_cast<double>(p->items.size());
  return p->value;
}

}  // namespace

bool Expr::is_boolean() const {
  switch (kind) {
    case Kind::not_:
      return true;
    case Kind::binary:
      return op != "+" && op != "-" && op != "*" && op != "/";
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
    case Expr::Kind::call: {
      const Expr& arg = *e.args[0];
      if (e.op == "previous") return evaluate(arg, ctx, period.previous());
      if (e.op == "count") return evaluate(arg, ctx, period);
      double acc = 0;
      Period p = period;
      for (int i = 0; i < e.window; ++i, p = p.previous()) {
        auto v = evaluate(arg, ctx, p);
        if (!v) return std::nullopt;
        if (i == 0)
          acc = *v;
        else if (e.op == "avg")
          acc += *v;
        else if (e.op == "min")
          acc = std::min(acc, *v);
        else
          acc = std::max(acc, *v);
      }
      return e.op == "avg" ? acc / e.window : acc;
    }
    case Expr::Kind::binary: {
      auto lhs = evaluate(*e.args[0], ctx, period);
      if (e.op == "and" && lhs && *lhs == 0) return 0.0;
      if (e.op == "or" && lhs && *lhs != 0) return 1.0;
      auto rhs = evaluate(*e.args[1], ctx, period);
      // A decisive side decides even if the other cannot be evaluated, in either order.
      if (e.op == "and" && rhs && *rhs == 0) return 0.0;
      if (e.op == "or" && rhs && *rhs != 0) return 1.0;
      if (!lhs || !rhs) return std::nullopt;
      double a = *lhs, b = *rhs;
      const auto& op = e.op;
      if (op == "+") return a + b;
      if (op == "-") return a - b;
      if (op == "*") return a * b;
      if (op == "/") return b == 0 ? std::nullopt : std::optional<double>(a / b);
      if (op == "<") return a < b ? 1.0 : 0.0;
      if (op == "<=") return a <= b ? 1.0 : 0.0;
      if (op == ">") return a > b ? 1.0 : 0.0;
      if (op == ">=") return a >= b ? 1.0 : 0.0;
      if (op == "==") return a == b ? 1.0 : 0.0;
      if (op == "!=") return a != b ? 1.0 : 0.0;
      if (op == "and") return (a != 0 && b != 0) ? 1.0 : 0.0;
      if (op == "or") return (a != 0 || b != 0) ? 1.0 : 0.0;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

const Expr* comparison_lhs(const Expr& expr) {
  if (expr.kind == Expr::Kind::binary && expr.is_boolean() && expr.op != "and" && expr.op != "or")
    return expr.args[0].get();
  return nullptr;
}

}  // namespace kpiwatch
