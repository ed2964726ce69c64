"""esxcli output formatters: default (tables and Key: Value blocks), csv, json.

A command result is a list of records; a record is a list of (display name, value)
pairs with typed values (str, int, bool, list of str). The shape comes from the
public samples (tests/sim/README.md names each one):
  - table:   column headers, a dash line per column, two spaces between columns;
             numbers and booleans right-aligned (headers too), text left-aligned;
             a "wide" last column (adapter Description on 7.0+) has dashes only as
             long as its header.
  - blocks:  one block per record: a header line (the key field's value), then
             "   Name: value" lines, then an empty line.
  - struct:  a single record as "   Name: value" lines.
  - structs: records as "   Name: value" lines, an empty line after each.
  - csv:     --format-param=fields=A,B picks and orders columns; a header row of
             field keys; every line ends with a comma; padding inside values kept.
  - json:    keys are display names without spaces or punctuation, typed values,
             the layout of Python's json.dumps(indent=2, sort_keys=True) as in the
             sample (ASCII-escaped).
THE ASSUMPTIONS (no public sample): how csv shows list values (joined by ",",
quoted as CSV requires), and that commands without output print nothing in
every format.
"""
from . import fastjson


class Output:
    def __init__(self, kind, columns=(), key=None, key_line=False, key_colon=False, right=(),
                 wide_last=False):
        self.kind = kind            # table | blocks | struct | structs | none
        self.columns = list(columns)  # table/csv columns when there are no records
        self.key = key              # blocks: field heading each block
        self.key_line = key_line    # blocks: print the key field as a line too
        self.key_colon = key_colon  # blocks: heading ends with ":"
        self.right = set(right)     # table: right-aligned columns
        self.wide_last = wide_last


def json_key(name):
    return "".join(c for c in name if c.isalnum())


def text_value(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def render(output, records, formatter, fields):
    if output.kind == "none":
        return ""
    if formatter == "json":
        return render_json(output, records)
    if formatter == "csv":
        return render_csv(output, records, fields)
    return render_default(output, records)


def render_json(output, records):
    objs = [{json_key(name): value for name, value in rec} for rec in records]
    data = objs[0] if output.kind == "struct" else objs
    return fastjson.dumps(data, indent=2) + "\n"


def _csv_cell(value):
    if isinstance(value, list):
        value = ",".join(value)
    text = text_value(value)
    if any(c in text for c in ',"\n\r'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def render_csv(output, records, fields):
    names = [name for name, _ in records[0]] if records else output.columns
    keys = [json_key(name) for name in names]
    if fields:
        keys = [f for f in fields if f]
    lines = ["".join(k + "," for k in keys)]
    for rec in records:
        by_key = {json_key(name): value for name, value in rec}
        lines.append("".join(_csv_cell(by_key.get(k, "")) + "," for k in keys))
    return "\n".join(lines) + "\n"


def _kv_lines(rec, skip=None):
    return [f"   {name}: {text_value(value)}" for name, value in rec if name != skip]


def render_default(output, records):
    if output.kind == "table":
        return render_table(output, records)
    lines = []
    if output.kind == "struct":
        for rec in records[:1]:
            lines += _kv_lines(rec)
    elif output.kind == "structs":
        for rec in records:
            lines += _kv_lines(rec) + [""]
    else:
        for rec in records:
            head = text_value(dict(rec)[output.key])
            lines.append(head + (":" if output.key_colon else ""))
            lines += _kv_lines(rec, None if output.key_line else output.key) + [""]
    return "".join(line + "\n" for line in lines)


def render_table(output, records):
    names = [name for name, _ in records[0]] if records else output.columns
    rows = [[text_value(dict(rec)[n]) for n in names] for rec in records]
    widths = []
    for i, n in enumerate(names):
        wide = output.wide_last and i == len(names) - 1
        widths.append(len(n) if wide else max([len(n)] + [len(r[i]) for r in rows]))

    def line(cells):
        parts = []
        for i, (n, cell) in enumerate(zip(names, cells)):
            last = i == len(names) - 1
            if n in output.right:
                parts.append(cell.rjust(widths[i]))
            elif last:
                parts.append(cell)
            else:
                parts.append(cell.ljust(widths[i]))
        return "  ".join(parts)

    out = [line(names), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "".join(x + "\n" for x in out)
