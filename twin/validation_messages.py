"""How problems in the files a user writes are worded: ``--set`` overrides and pydantic errors
as one-line messages.

Scenario files (:mod:`twin.scenario`) and gate policies (:mod:`twin.control.policy`) are both
reported with these words, so this module sits below both (docs/architecture.md). It turns what
goes wrong into lines of the form ``field.path: got VALUE: expected WHAT`` (the caller puts the
file name in front). It reads the file's JSON Schema, passed in as ``schema``, to name the fields
and say what they accept, so it never imports the models. It also applies ``--set``
``KEY.PATH=VALUE`` overrides, which need that schema to create missing sections and to start a
rainfall section afresh when its ``kind`` changes.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import date
from typing import Any, overload

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

DURATION_EXPECTED = "a duration: seconds or a string like '3h', '90min'"
DATETIME_EXPECTED = "a date and time (ISO 8601, e.g. 2026-07-15T06:00:00+09:00)"

# ---------------------------------------------------------------------------------------------
# Values in messages
# ---------------------------------------------------------------------------------------------


def _num(x: float) -> str:
    """12 for 12.0, 0.5 for 0.5."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def format_duration(seconds: float) -> str:
    """``'5400 s (1h30min)'``: seconds, plus the d/h/min/s form when it is a whole minute or more."""
    text = f"{_num(seconds)} s"
    if seconds >= 60 and float(seconds).is_integer():
        rest, parts = int(seconds), []
        for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1)):
            n, rest = divmod(rest, size)
            if n:
                parts.append(f"{n}{unit}")
        text += f" ({''.join(parts)})"
    return text


def _bounds_text(gt: float | None, ge: float | None, le: float | None, fmt=None) -> str:
    fmt = fmt or _num
    parts = []
    if gt is not None:
        parts.append(f"> {fmt(gt)}")
    if ge is not None:
        parts.append(f">= {fmt(ge)}")
    if le is not None:
        parts.append(f"<= {fmt(le)}")
    return " and ".join(parts)


def _show(value: Any) -> str:
    """A short one-line rendering of a value as the user wrote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6).strip()
        except (yaml.YAMLError, RecursionError, ValueError, TypeError):
            text = f"a {type(value).__name__}"
        text = text.removesuffix("\n...").removesuffix("...").strip()
    text = _one_line(text)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {_show(value)}"
    return f"{_show(value)} ({type(value).__name__})"


def _kind_word(value: Any) -> str:
    """What a value is, without what it says: 'a list', 'a text', 'a number' (for a file that is
    not what was expected: its contents stay out of the message)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, date):
        return "a date"
    return f"a {type(value).__name__}"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def short(text: Any, limit: int = 60) -> str:
    """``text`` on one line, cut to ``limit`` characters with "..." (for a value echoed in a message)."""
    text = _one_line(str(text))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _expected_error(expected: str) -> PydanticCustomError:
    """A validation error worded ``FILE: field: got VALUE: expected EXPECTED`` (see :func:`_explain`)."""
    return PydanticCustomError("expected", "expected {expected}", {"expected": expected})


# ---------------------------------------------------------------------------------------------
# --set overrides
# ---------------------------------------------------------------------------------------------


def _apply_override(
    data: dict, item: str, schema: dict, loader: type[yaml.SafeLoader], *, max_parts: int = 32
) -> str | None:
    """Apply one ``KEY.PATH=VALUE`` to ``data`` in place (copying what it changes); a problem or None.

    ``schema`` is the scenario JSON Schema; ``loader`` parses VALUE (the loader of scenario files);
    a key path has at most ``max_parts`` parts.
    """
    key, sep, raw = item.partition("=")
    parts = key.strip().split(".")
    if not sep:
        return "got no '=': expected KEY.PATH=VALUE, e.g. rainfall.total_mm=120"
    if len(parts) > max_parts:
        return f"got a key path of {len(parts)} parts: expected at most {max_parts}, e.g. rainfall.total_mm=120"
    if any(not p.strip() for p in parts):
        return f"got the key path {key.strip()!r}: expected dot-separated names, e.g. rainfall.total_mm=120"
    parts = [p.strip() for p in parts]
    try:
        value = yaml.load(raw, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        problem = _one_line(exc.problem or exc.context or "syntax error")
        problem = problem if len(problem) <= 120 else problem[:117] + "..."
        return f"got a value that is not valid YAML ({problem}): expected a YAML value, e.g. 120 or [1, 2]"
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, OverflowError, RecursionError) as exc:
        return f"got a value that is not valid YAML ({type(exc).__name__}): expected a YAML value, e.g. 120 or [1, 2]"
    node: Any = data
    node_schema: dict | None = schema
    for depth, seg in enumerate(parts):
        here = ".".join(parts[:depth]) or "the top level"
        if isinstance(node, dict):
            k: Any = seg
        elif isinstance(node, list):
            if not seg.isdigit() or int(seg) > len(node):
                return f"got {seg!r} after {here}, a list of {len(node)}: expected an index 0..{len(node)}"
            k = int(seg)
            if k == len(node):
                node.append(None)
        else:
            return f"got {_show(node)} at {here}: expected a mapping or a list to set {seg} in"
        variant = _variant_schema(node_schema, node, schema)
        if depth == len(parts) - 1:
            if _is_discriminator(_strip_null(node_schema, schema), seg) and node.get(seg) != value:
                node.clear()  # a new variant: its own fields only
            node[k] = value
            return None
        node_schema = _child_schema(variant, k, schema)
        child = node.get(k) if isinstance(node, dict) else node[k]
        if child is None:  # a section the file leaves out: a list or a mapping, as the schema says
            child = [] if (_strip_null(node_schema, schema) or {}).get("type") == "array" else {}
        elif isinstance(child, dict | list):
            child = type(child)(child)  # copy on write: YAML aliases elsewhere stay as they were
        node[k] = child
        node = child
    return None


def _is_discriminator(node_schema: dict | None, key: str) -> bool:
    if not node_schema:
        return False
    return node_schema.get("discriminator", {}).get("propertyName") == key


def _variant_schema(node_schema: dict | None, node: Any, root: dict) -> dict | None:
    """The schema of one variant of a discriminated union, chosen by the data's tag."""
    node_schema = _strip_null(node_schema, root)
    if node_schema and "discriminator" in node_schema and isinstance(node, dict):
        disc = node_schema["discriminator"]
        ref = disc["mapping"].get(node.get(disc["propertyName"]))
        return _deref({"$ref": ref}, root) if isinstance(ref, str) else None
    return node_schema


# ---------------------------------------------------------------------------------------------
# Error messages
# ---------------------------------------------------------------------------------------------


def _error_lines(exc: ValidationError, label: str, schema: dict) -> list[str]:
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        for path, got, expected in _explain(err, schema):
            line = f"{label}: {path}: {got}: expected {expected}"
            if line not in lines:
                lines.append(line)
    return lines


def _explain(err: ErrorDetails, schema: dict) -> list[tuple[str, str, str]]:
    """(field path, 'got ...' or 'missing' or 'unknown field', expected) for one pydantic error."""
    loc, kind, ctx = tuple(err["loc"]), err["type"], err.get("ctx") or {}
    value = err.get("input")
    if loc and loc[-1] == "[key]":
        parts, _ = _walk(schema, loc[:-1])
        return [(_join(parts), f"got the key {_show(loc[-2])}", "a string key (put it in quotes)")]
    if kind == "invalid_key":
        parts, _ = _walk(schema, loc[:-1])
        return [(_join(parts), f"got the key {_show(loc[-1])}", "field names (strings)")]
    parts, node = _walk(schema, loc)
    path = _join(parts)
    if kind == "scenario_rules":
        return [(_join([*parts, *(p.split(".") if p else [])]), f"got {g}", e) for p, g, e in ctx["problems"]]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        node = _strip_null(node, schema) or {}
        prop = node.get("discriminator", {}).get("propertyName", "kind")
        tags = ", ".join(_tags(node, schema))
        got = f"got {_show(value.get(prop))}" if isinstance(value, dict) and prop in value else "missing"
        return [(_join([*parts, prop]), got, f"one of {tags}")]
    if kind == "missing":
        return [(path, "missing", _describe(node, schema) if node else "a value")]
    if kind == "extra_forbidden":
        _, parent = _walk(schema, loc[:-1])
        names = list((parent or {}).get("properties", {}))
        expected = "one of " + ", ".join(names) if names else "no other field"
        close = difflib.get_close_matches(str(loc[-1]), names, n=1)
        if close:
            expected += f" (did you mean {close[0]}?)"
        return [(path, "unknown field", expected)]
    got = f"got {_show(value)}"
    if kind == "duration_parsing":
        return [(path, got, DURATION_EXPECTED)]
    if kind == "duration_range":
        return [(path, got, f"a duration {ctx['bounds']}")]
    if kind == "expected":
        return [(path, got, ctx["expected"])]
    if node is not None:
        return [(path, got, _describe(node, schema))]
    return [(path, got, _one_line(err["msg"]).removeprefix("expected ").lower())]


def _walk(schema: dict, loc: Sequence[Any]) -> tuple[list[Any], dict | None]:
    """Follow a pydantic error location through the JSON schema: (display path, schema there).

    Discriminated-union tags in the location select a variant and are left out of the path.
    """
    node: dict | None = schema
    parts: list[Any] = []
    for key in loc:
        node = _strip_null(node, schema)
        if node is not None and "discriminator" in node and key in node["discriminator"]["mapping"]:
            node = _deref({"$ref": node["discriminator"]["mapping"][key]}, schema)
            continue
        parts.append(key)
        node = _child_schema(node, key, schema)
    return parts, _deref(node, schema)


def _child_schema(node: dict | None, key: Any, root: dict) -> dict | None:
    node = _strip_null(node, root)
    if node is None:
        return None
    props = node.get("properties", {})
    if key in props:
        return props[key]
    if isinstance(key, int) and isinstance(node.get("items"), dict):
        return node["items"]
    if isinstance(node.get("additionalProperties"), dict):
        return node["additionalProperties"]
    return None


def _tags(node: dict, root: dict) -> list[str]:
    """The tags of a discriminated union, in declared order."""
    prop = node["discriminator"]["propertyName"]
    return [str(_deref(b, root)["properties"][prop]["const"]) for b in node.get("oneOf", [])]


@overload
def _deref(node: dict, root: dict) -> dict: ...
@overload
def _deref(node: dict | None, root: dict) -> dict | None: ...
def _deref(node: dict | None, root: dict) -> dict | None:
    """The schema ``node`` stands for, its ``$ref`` followed into ``root``'s ``$defs``."""
    while node is not None and "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _strip_null(node: dict | None, root: dict) -> dict | None:
    """``X | None`` -> X (the schema of what was wrong, when it was not null)."""
    node = _deref(node, root)
    if node is not None and "anyOf" in node:
        rest = [b for b in node["anyOf"] if b.get("type") != "null"]
        if len(rest) == 1 and len(rest) < len(node["anyOf"]):
            return _deref(rest[0], root)
    return node


def _describe(node: dict | None, root: dict) -> str:
    """What a schema accepts, in words: 'a number > 0', 'one of dynamic, kinematic', ..."""
    node = _deref(node, root)
    if not node:
        return "a value"
    if "anyOf" in node:
        branches = node["anyOf"]
        number = _duration_number(branches)
        if number is not None:
            bounds = _bounds_text(
                number.get("exclusiveMinimum"), number.get("minimum"), number.get("maximum"), format_duration
            )
            return DURATION_EXPECTED.replace("a duration", f"a duration {bounds}" if bounds else "a duration")
        text = " or ".join(_describe(b, root) for b in branches if b.get("type") != "null")
        return text + " (or null)" if any(b.get("type") == "null" for b in branches) else text
    if "discriminator" in node:
        return f"a mapping with {node['discriminator']['propertyName']}: one of " + ", ".join(_tags(node, root))
    if "const" in node:
        return str(node["const"])
    if "enum" in node:
        return "one of " + ", ".join(str(v) for v in node["enum"])
    kind = node.get("type")
    if kind in ("number", "integer"):
        base = "a number" if kind == "number" else "an integer"
        bounds = _bounds_text(node.get("exclusiveMinimum"), node.get("minimum"), node.get("maximum"))
        return f"{base} {bounds}" if bounds else base
    if kind == "string":
        if node.get("format") == "date-time":
            return DATETIME_EXPECTED
        return "a non-empty string" if node.get("minLength") else "a string"
    if kind == "boolean":
        return "true or false"
    if kind == "array":
        items = _deref(node.get("items"), root)
        if items and items.get("type") == "object":
            return "a list of mappings"
        return f"a list, each item {_describe(items, root)}" if items else "a list"
    if kind == "object":
        props = node.get("properties")
        if props:
            required = node.get("required", [])
            optional = [p for p in props if p not in required]
            if not required:
                return "a mapping with any of " + ", ".join(optional)
            text = "a mapping with " + ", ".join(required)
            return text + (" (optional: " + ", ".join(optional) + ")" if optional else "")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return f"a mapping, each value {_describe(extra, root)}"
        return "a mapping"
    return "a value"


def _duration_number(branches: list[dict]) -> dict | None:
    """The number branch of a duration's ``anyOf`` (seconds, or a string matching a pattern), else None.

    Durations are the only fields of the scenario schema that take a string with a ``pattern``.
    """
    number = next((b for b in branches if b.get("type") == "number"), None)
    patterned = any(b.get("type") == "string" and "pattern" in b for b in branches)
    return number if patterned else None


def _describe_top(schema: dict) -> str:
    """What the top level of a scenario file must be, from the scenario JSON Schema."""
    required = schema["required"]
    return "a mapping with " + ", ".join(required) + ", ..."


def _join(parts: Sequence[Any]) -> str:
    return ".".join(_key_text(p) for p in parts) or "top level"


def _key_text(key: Any) -> str:
    """A key of a field path as written, or quoted (escapes shown) when it has spaces, line breaks
    or control characters; at most 40 characters, so a path stays on one short line."""
    text = str(key)
    if not text or not text.isprintable() or any(c.isspace() for c in text):
        text = repr(text)
    return text if len(text) <= 40 else text[:37] + "..."
