#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/seeds/<target>/ from the shipped data:
the bundled dataset (config/dataset/bundled.json), the shipped rules
(config/rules/*.toml) and the files the tests use. Run from the repository
root after the data changes: python3 tests/fuzz/make_seeds.py"""
import json
import pathlib
import re
import shutil

root = pathlib.Path(__file__).resolve().parents[2]
seeds = root / "tests/fuzz/seeds"


def write(target, name, data):
    d = seeds / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def dumps(value):
    return json.dumps(value, ensure_ascii=False)


shutil.rmtree(seeds, ignore_errors=True)
bundled = json.loads((root / "config/dataset/bundled.json").read_text())["submissions"]

# One submission of each KPI (numbers, items, dims), then batches.
first_of = {}
for s in bundled:
    first_of.setdefault(s["kpi"], s)
picked = list(first_of.values())[::2]  # every other KPI: a few dozen files
for i, s in enumerate(picked):
    write("submission", f"one-{i:02d}.json", dumps(s))
write("submission", "batch.json", dumps({"submissions": bundled[:4]}))
write("submission", "batch-items.json", dumps({"submissions": [s for s in bundled if "items" in s][:2]}))
write("submission", "escapes.json", '{"kpi":"g01.trainees","period":"2024","value":1,"note":"\\u30c6\\ud83d\\ude00\\n"}')
write("submission", "numbers.json", '{"kpi":"g01.trainees","period":"2024","value":-0.5e3}')
write("submission", "repeated-key.json", '{"kpi":"g01.trainees","period":"2025-13","period":"2025","value":1}')
write("submission", "blank-item.json", '{"kpi":"g10.new_reference_countries","period":"2024","items":[" ","\\t"]}')

# Import files: CSV in each encoding Excel writes, the export's header, JSON.
def csv_of(rows, header=("kpi", "period", "dims", "value", "items", "body", "source", "note")):
    def cell(v):
        v = str(v)
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\r\n') else v

    lines = [",".join(header)]
    for s in rows:
        dims = ";".join(f"{k}={v}" for k, v in s.get("dims", {}).items())
        fields = {"kpi": s["kpi"], "period": s["period"], "dims": dims, "value": s.get("value", ""),
                  "items": "|".join(s.get("items", [])), "body": s.get("body", ""),
                  "source": s.get("source", ""), "note": s.get("note", "")}
        lines.append(",".join(cell(fields[h]) for h in header))
    return "\r\n".join(lines) + "\r\n"


rows = bundled[:3] + [s for s in bundled if "items" in s][:1] + [s for s in bundled if s.get("dims")][:1]
text = csv_of(rows)
write("import", "utf8.csv", text)
write("import", "utf8-bom.csv", b"\xef\xbb\xbf" + text.encode())
write("import", "utf16le.csv", b"\xff\xfe" + text.encode("utf-16-le"))
write("import", "utf16be.csv", b"\xfe\xff" + text.encode("utf-16-be"))
write("import", "cp932.csv", text.replace("\u2013", "-").encode("cp932"))
write("import", "lf.csv", text.replace("\r\n", "\n"))
write("import", "dims-columns.csv", "kpi,period,dims.stage,value\ng06.stage_up_rate,2024,all,26.8\n")
write("import", "export-ja.csv", b"\xef\xbb\xbf" + "目標,KPI,KPI名,期間,期間名,系列,次元,値,単位,項目,報告機関,出典,備考,提出者,提出日時,版\r\n"
      "1,g01.trainees,研修受講者数,2024,2024年,,,4086,人,,amed,報告,'=1,admin,2026-01-01T00:00:00Z,1\r\n".encode())
write("import", "quoted.csv", 'kpi,period,value,note\r\ng01.trainees,2024,1,"a ""b"", c\r\nd"\r\n')
write("import", "array.json", dumps(bundled[:2]))
write("import", "object.json", dumps({"submissions": bundled[2:4]}))
write("import", "bad-row.csv", "kpi,period,value\ng01.trainees,2024,x\ng01.trainees,2025\n")

# Rules: each [[rule]] of the shipped files on its own, and a few whole files.
rule_files = sorted((root / "config/rules").glob("*.toml"))
n = 0
for f in rule_files:
    parts = re.split(r"(?m)^(?=\[\[(?:rule|inhibit)\]\])", f.read_text())
    for p in parts[1:]:
        if n % 2 == 0:  # every other rule: a few dozen files
            write("rules", f"{f.stem}-{n:02d}.toml", p)
        n += 1
for f in rule_files[:3]:
    write("rules", f.name, f.read_text())

# Conditions: the first line names the watched KPI, the rest is the expression.
exprs = []
for f in rule_files:
    text = f.read_text()
    for rule in re.split(r"(?m)^\[\[rule\]\]", text)[1:]:
        kpi = re.search(r'(?m)^kpi = "([^"]+)"', rule)
        expr = re.search(r"(?m)^expr = (\"[^\"]*\"|'[^']*')", rule)
        if kpi and expr:
            exprs.append((kpi.group(1), expr.group(1)[1:-1]))
exprs += [
    ("g01.trainees", "avg(value, 3) < 0.9 * max(previous(value), 12)"),
    ("g01.trainees", "not (value >= 1 or -value != 2) and min(g01.training_courses, 2) <= 3"),
    ("g06.stage_up_rate", 'g06.stage_up_rate{stage="all"} - previous(value) == 1.5'),
    ("g10.new_reference_countries", "count(value) > count(previous(value))"),
    ("g01.trainees", "(((value))) / 0 > 1"),
]
for i, (kpi, expr) in enumerate(exprs):
    write("expression", f"expr-{i:02d}", f"{kpi}\n{expr}")

# Dictionaries: the words each parser knows (libFuzzer -dict=).
kpis = re.findall(r'(?m)^id = "(g\d\d\.[a-z_]+)"', (root / "config/catalog.toml").read_text())
dims = sorted(set(re.findall(r"(?m)^\[kpis\.dims\.([a-z_]+)\]", (root / "config/catalog.toml").read_text())))


def write_dict(name, words):
    d = root / "tests/fuzz/dicts"
    d.mkdir(parents=True, exist_ok=True)
    def quoted(w):  # libFuzzer's escapes: \\, \" and \xNN
        return '"' + "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\x{b:02X}"
                             for b in w.encode("latin-1" if w.startswith(("\xef", "\xff", "\xfe")) else "utf-8")) + '"'

    lines = [f"kw{i}={quoted(w)}" for i, w in enumerate(dict.fromkeys(words))]
    (d / f"{name}.dict").write_text("\n".join(lines) + "\n")


json_words = ['"kpi"', '"period"', '"dims"', '"value"', '"items"', '"body"', '"source"', '"note"', '"submissions"',
              "{", "}", "[", "]", ":", ",", "null", "true", "false", "\\u", "\\ud800", "1e308", "-0", '"2024"',
              '"FY2024"', '"2024-Q1"', '"2024-03"', '"amed"'] + [f'"{k}"' for k in kpis] + [f'"{d}"' for d in dims]
write_dict("submission", json_words)
write_dict("import", ["kpi", "period", "dims", "value", "items", "body", "source", "note", "dims.", ",", '"', "\r\n",
                      "|", ";", "=", "\xef\xbb\xbf", "\xff\xfe", "\xfe\xff", "KPI", "期間", "次元", "値", "項目", "出典",
                      "備考", "FY2024", "2024-Q1"] + kpis + dims)
toml_words = ["[[rule]]", "[[inhibit]]", "[rule.", "]", " = ", '"""', "'''", "{", "}", "[", "]", "\n", "true", "inf",
              "nan", "1979-05-27T07:32:00Z", "{value}", "{previous}", "{period}", "{dims.", ":.1f}"]
for w in ("above against all at_least at_or_above at_or_below baseline below by change condition declines "
          "description_en description_ja dims direction due equal expr expression falling hold_for id inhibit kpi "
          "labels last_reported missing more_than new_item percent points previous_period receivers rises rising "
          "rule severity slope_above slope_below source stagnation summary_en summary_ja target threshold title "
          "tolerance tolerance_percent trend window critical warning info").split():
    toml_words.append(w)
write_dict("rules", toml_words + [f'"{k}"' for k in kpis])
write_dict("expression", ["value", "previous(", "avg(", "min(", "max(", "count(", "and", "or", "not", "<=", ">=", "==",
                          "!=", "<", ">", "+", "-", "*", "/", "(", ")", "{", "}", ", 120)", '="', "0.5"] + kpis + dims)
