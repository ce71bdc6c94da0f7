"""Which scenario overrides a browser may type: none that names a file or folder on the server.

The scenario fields whose value is a path (:data:`PATH_FIELDS`) make the server read that file
(and a bad file's error could show part of it in the browser). In the app they come from the
project's own folders (a pick-list) or from an upload, never from a typed ``key=value`` line;
setting a section that holds such a field as a whole (``rainfall={...}``) is refused as well.
"""

from __future__ import annotations

from collections.abc import Iterable

# every scenario field that is a path "relative to the scenario file" (a test checks the schema)
PATH_FIELDS = ("dataset", "rainfall.csv", "controller.policy", "collapse.policy")


def _key(item: str) -> tuple[str, ...]:
    key = item.partition("=")[0]
    return tuple("*" if p.strip().isdigit() else p.strip().lower() for p in key.split("."))


def path_field_of(item: str) -> str | None:
    """The path field a ``KEY.PATH=VALUE`` override would set (itself or the section holding
    it), or None. An empty key counts as the whole scenario."""
    key = _key(item)
    if key == ("",):
        return PATH_FIELDS[0]
    for field in PATH_FIELDS:
        parts = tuple(field.split("."))
        if key == parts[: len(key)]:
            return field
    return None


def browser_override_problems(lines: Iterable[str]) -> list[str]:
    """One line per override a browser may not type (``KEY``, or ``KEY (holds the file path
    FIELD)`` for a section); empty when all are allowed. The value is never repeated."""
    problems = []
    for item in lines:
        field = path_field_of(item)
        if field is not None:
            key = item.partition("=")[0].strip() or "(empty key)"
            # "rainfall.csv" alone, or "rainfall (holds the file path rainfall.csv)" for a section
            problems.append(key if key == field else f"{key} (holds the file path {field})")
    return problems
