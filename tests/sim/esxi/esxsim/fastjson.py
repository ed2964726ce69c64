"""JSON without importing the json package.

`import json` pulls in `re` and compiles several patterns: about 8 ms, almost half
of the 20 ms budget of one simulated esxcli call. The C accelerator `_json`
that json itself uses has no such cost, so the simulator talks to it directly.
Output of dumps() is byte-identical to json.dumps(obj, indent=..., sort_keys=True)
(tests/sim/esxi/test_formats checks that against the real json module).
"""
import _json

__all__ = ["loads", "dumps", "JSONError"]


class JSONError(ValueError):
    pass


class _Context:
    # The attributes _json.make_scanner reads from a json.JSONDecoder.
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo = {}

    @staticmethod
    def parse_constant(name):
        raise JSONError(f"constant {name} is not allowed")


_scan = _json.make_scanner(_Context())
_WS = " \t\n\r"


def loads(text):
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    start = len(text) - len(text.lstrip(_WS))
    try:
        value, end = _scan(text, start)
    except StopIteration as e:
        raise JSONError(f"bad JSON at offset {e.value}") from None
    finally:
        _Context.memo.clear()
    if text[end:].strip(_WS):
        raise JSONError(f"extra data at offset {end}")
    return value


_encode_str = _json.encode_basestring_ascii


def _encode(obj, indent, level, out):
    if isinstance(obj, str):
        out.append(_encode_str(obj))
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif obj is None:
        out.append("null")
    elif isinstance(obj, int):
        out.append(int.__repr__(obj))
    elif isinstance(obj, float):
        out.append(float.__repr__(obj))
    elif isinstance(obj, dict):
        _encode_items(sorted(obj.items()), indent, level, out, "{", "}", True)
    elif isinstance(obj, (list, tuple)):
        _encode_items(obj, indent, level, out, "[", "]", False)
    else:
        raise TypeError(f"cannot encode {type(obj).__name__}")


def _encode_items(items, indent, level, out, opening, closing, keyed):
    if not items:
        out.append(opening + closing)
        return
    out.append(opening)
    if indent is None:
        sep, inner, outer = ", ", "", ""
    else:
        inner = "\n" + " " * (indent * (level + 1))
        outer = "\n" + " " * (indent * level)
        sep = ","
    for i, item in enumerate(items):
        out.append(inner if i == 0 else sep + inner)
        if keyed:
            out.append(_encode_str(item[0]) + ": ")
            item = item[1]
        _encode(item, indent, level + 1, out)
    out.append(outer + closing)


def dumps(obj, indent=None):
    """json.dumps(obj, indent=indent, sort_keys=True) with ensure_ascii."""
    out = []
    _encode(obj, indent, 0, out)
    return "".join(out)
