"""Reading files a user names (scenarios, gate policies, rain CSVs): regular files only, bounded
in size, and YAML read strictly (no duplicate keys, bounded nesting, no alias bombs).

Errors are :class:`~twin.errors.TwinError` subclasses naming the file and, where known, the line
and column, never what the file says: a path typed by a user may point at any file on the machine.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import yaml

from .errors import ScenarioError, TwinError
from .validation_messages import _one_line

MAX_YAML_BYTES = 1 << 20
"""Largest scenario or policy file, bytes (1 MiB; the shipped ones are about 2 kB)."""
MAX_YAML_DEPTH = 32
"""Deepest nesting of mappings and lists in a scenario or policy (the schema needs 5)."""
MAX_YAML_NODES = 100_000
"""Most values in a scenario or policy once YAML aliases (``*name``) are expanded."""


class StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader that rejects a key given twice in one mapping (PyYAML keeps the last),
    nesting deeper than :data:`MAX_YAML_DEPTH` and aliases that expand to more than
    :data:`MAX_YAML_NODES` values (a "billion laughs" file), before anything is constructed."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None and _expanded_size(node) > MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"aliases (*name) expand to more than {MAX_YAML_NODES} values (or refer to themselves)",
                node.start_mark,
            )
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key; the base class reports it
                if first is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first on line {first})", key_node.start_mark
                    )
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node, deep=False):
        """An impossible timestamp (2026-13-45) stays text, for a located 'expected a date' problem."""
        if node.tag != "tag:yaml.org,2002:timestamp":
            return super().construct_object(node, deep=deep)
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, AttributeError, OverflowError):  # '!!timestamp nope': no regex match
            self.recursive_objects.pop(node, None)
            if not isinstance(node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "expected a date and time after !!timestamp", node.start_mark
                ) from None
            return self.construct_scalar(node)


def _expanded_size(root: yaml.Node) -> int:
    """Number of nodes of a composed YAML document with every alias expanded (shared nodes count
    each time they are used); more than :data:`MAX_YAML_NODES` (or a cycle) stops the count early."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        kids = _children(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            if size[key] > MAX_YAML_NODES:
                return size[key]
            continue
        if key in size:
            continue
        if key in on_path:  # a node inside itself: infinite once expanded
            return MAX_YAML_NODES + 1
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in kids if id(k) not in size)
    return size[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _data_shape_problem(data: Any) -> str | None:
    """Python data (parsed YAML, or built in code) nested deeper than :data:`MAX_YAML_DEPTH` or with
    more than :data:`MAX_YAML_NODES` values (shared ones counted each time): what is wrong, else None."""
    count = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_YAML_NODES:
            return f"more than {MAX_YAML_NODES} values (after expanding YAML aliases)"
        if isinstance(value, Mapping):
            items = [v for kv in value.items() for v in kv]
        elif isinstance(value, list | tuple | set | frozenset):
            items = list(value)
        else:
            continue
        if items and depth >= MAX_YAML_DEPTH:
            return f"nested deeper than {MAX_YAML_DEPTH} levels"
        stack.extend((v, depth + 1) for v in items)
    return None


_PSEUDO_FS = ("/proc", "/sys", "/dev")


def read_regular_file(
    path: str | os.PathLike[str], *, what: str, max_bytes: int, error: type[TwinError] = ScenarioError
) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` bytes; ``error`` with one line naming the
    file otherwise (missing, a directory, a device, a FIFO, a /proc or /sys file, too large,
    unreadable). Opens without blocking, so a FIFO is refused instead of waited on."""
    label = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{label}: not found") from None
    except IsADirectoryError:
        raise error(f"{label}: is a directory: expected {what}") from None
    except OSError as exc:
        raise error(f"{label}: cannot read: {exc.strerror or type(exc).__name__}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{label}: is a directory: expected {what}")
        if not stat.S_ISREG(st.st_mode) or _on_pseudo_fs(st):
            raise error(f"{label}: not a regular file (a device, FIFO, socket or /proc file): expected {what}")
        if st.st_size > max_bytes:
            raise error(f"{label}: {st.st_size} bytes, more than {max_bytes}: expected {what}")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=True) as f:
            fd = -1
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"{label}: cannot read: {exc.strerror or type(exc).__name__}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > max_bytes:
        raise error(f"{label}: more than {max_bytes} bytes: expected {what}")
    return data


def _on_pseudo_fs(st: os.stat_result) -> bool:
    """A file of /proc, /sys or /dev (their files can be regular, endless or secret)."""
    for root in _PSEUDO_FS:
        try:
            if os.stat(root).st_dev == st.st_dev:
                return True
        except OSError:
            continue
    return False


def read_yaml_file(path: str | os.PathLike[str], *, what: str, error: type[TwinError] = ScenarioError) -> Any:
    """The data of a YAML file (scenarios, gate policies), read with the scenario loader's strict
    safe loader. Raises ``error`` with one line naming the file and, for a syntax error, the line
    and column, never the file's contents."""
    label = os.fspath(path)
    raw = read_regular_file(path, what=what, max_bytes=MAX_YAML_BYTES, error=error)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{label}: not UTF-8 text (byte {exc.start}): save the file as UTF-8") from None
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        why = exc.problem or exc.context or "syntax error"
        if exc.problem and exc.context and exc.context.startswith("expected"):
            why = f"{exc.context}, {exc.problem}"  # 'expected a single document in the stream, but found ...'
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
        raise error(f"{label}: {where}not valid YAML: {_short(_one_line(why))}") from None
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, OverflowError, RecursionError) as exc:
        # not located: the text of the exception may quote the file (a value PyYAML could not convert)
        raise error(f"{label}: not valid YAML ({type(exc).__name__})") from None


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
"""A JSON string literal, escapes included: strings hold no structure."""
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def bracket_depth(structure: str) -> int:
    """Deepest nesting of ``[``/``{`` in a JSON text whose strings are blanked (vectorised)."""
    b = structure.encode("utf-8", "surrogatepass").translate(None, _NOT_BRACKETS)
    if not b:
        return 0
    a = np.frombuffer(b, dtype=np.uint8)
    return max(int(np.where((a == ord("[")) | (a == ord("{")), 1, -1).cumsum().max()), 0)


def json_depth(text: str | bytes) -> int:
    """The deepest nesting of ``[``/``{`` in a JSON text, outside strings: a scan, no parse, so a
    100,000-deep document is measured without recursion (and refused before ``json.loads``)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return bracket_depth(JSON_STRING.sub('""', text))
