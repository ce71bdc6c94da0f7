"""sim_devices.guard: bounded JSON parsing, the rate-limited log of refused inputs, shielded handlers."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim_devices.guard import MAX_JSON_DEPTH, BadInput, InputLog, json_depth, parse_json_message, shielded


def test_depth_counts_brackets_outside_strings_only():
    assert json_depth('{"a": [1, {"b": "[[[[[["}]}') == 3
    assert json_depth(r'["\"[[[", []]') == 2
    assert json_depth("") == 0


@settings(derandomize=True, max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_depth_agrees_with_the_structure(value):
    def depth(v):
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        return 0

    assert json_depth(json.dumps(value)) == depth(value)


def test_a_hundred_thousand_brackets_are_refused_without_recursion():
    with pytest.raises(BadInput, match="bytes"):
        parse_json_message(b"[" * 100_000)
    with pytest.raises(BadInput, match="nested deeper"):
        parse_json_message(b"[" * (MAX_JSON_DEPTH + 1), max_bytes=10_000)
    assert parse_json_message(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, max_bytes=10_000) is not None


@pytest.mark.parametrize(
    "payload",
    [b"\xff\xfe secret-marker", b'{"command": "secret-marker"', b"secret-marker", b'{"a": NaN} secret-marker'],
)
def test_the_error_never_repeats_the_payload(payload):
    with pytest.raises(BadInput) as info:
        parse_json_message(payload)
    assert "secret-marker" not in str(info.value)


def test_the_log_is_rate_limited_but_the_count_is_exact(caplog):
    now = [0.0]
    log = InputLog(burst=3, window_s=60.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="sim_devices.input"):
        for _ in range(1000):
            log.refuse("G03", "not JSON")
        assert log.refused["G03"] == 1000 and log.total() == 1000
        assert len(caplog.records) == 3
        now[0] = 61.0
        log.refuse("G03", "not JSON")
    assert "997 more refused inputs from 1 devices not logged" in caplog.records[3].getMessage()
    assert len(caplog.records) == 5 and log.lines == 5


def test_garbage_at_every_device_for_ten_minutes_stays_under_a_bound(caplog):
    """289 devices, each sent 4 bad inputs a second for 10 simulated minutes: at most
    10 x (total_burst + 1) lines, about 50 kB."""
    now = [0.0]
    log = InputLog(clock=lambda: now[0])
    devices = [f"D{i:03d}" for i in range(289)]
    with caplog.at_level(logging.WARNING, logger="sim_devices.input"):
        for step in range(10 * 60 * 2):  # every 0.5 s
            now[0] = step * 0.5
            for dev in devices:
                log.refuse(dev, "not JSON (JSONDecodeError)")
                log.refuse(dev, "not JSON (JSONDecodeError)")
        log.flush()
    assert log.total() == 289 * 2 * 1200
    assert log.lines == len(caplog.records) <= 10 * (log.total_burst + 1) + 1
    assert sum(len(r.getMessage()) + 1 for r in caplog.records) < 60_000
    # the first 20 devices logged 2 lines each (40 in all) in the window's first step: the others lead
    assert "from 289 devices" in caplog.records[-1].getMessage() and "most: D020 240" in caplog.records[-1].getMessage()


def test_log_lines_are_one_line_and_survive_lone_surrogates(caplog):
    log = InputLog()
    with caplog.at_level(logging.WARNING, logger="sim_devices.input"):
        log.refuse("G02", "bad\ncommand \ud800 " + "x" * 1000)
    (line,) = [r.getMessage() for r in caplog.records]
    assert "\n" not in line and len(line) < 260
    line.encode("utf-8")  # no lone surrogate left to break a log handler


def test_a_shielded_handler_never_raises():
    log = InputLog()

    def handler(topic, payload):
        json.loads(payload)  # RecursionError on deep nesting, ValueError on garbage

    safe = shielded(handler, "G03", log)
    safe("t", b"[" * 100_000 + b"]" * 100_000)
    safe("t", b"\xff")
    assert log.refused["G03"] == 2
