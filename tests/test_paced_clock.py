"""The fleet's paced clock (issue 12), on a wall clock of our own (no sleeping, no real time):
speed is a ceiling, the clock waits for undelivered readings and for the controller's progress,
it never jumps after a late tick, and a strict clock keeps wall time and measures its lag.
Then the verdict's timing: budgets, what breaks them, and the inconclusive status."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from sim_devices.clock import DeliveryTracker, PacedClock, timing_budget_s
from twin.control import hil_timing as timing
from twin.control.fleet_clock import pack_time, parse_speed, unpack_time

TICK = 0.01  # wall s


def _run(clock: PacedClock, ticks: int, *, wall0: float = 0.0, dt: float = TICK, **limits) -> list[float]:
    clock.start(wall0)
    return [clock.advance(wall0 + (k + 1) * dt, **limits) for k in range(ticks)]


def test_an_idle_paced_clock_runs_at_its_ceiling():
    c = PacedClock(120.0, 10_800.0, step_s=2.5, lead_s=2.5)
    times = _run(c, 100)
    assert times[-1] == pytest.approx(120.0 * 100 * TICK)
    assert c.effective_speed(100 * TICK) == pytest.approx(120.0)
    assert c.holds.as_dict() == {"delivery": 0.0, "controller": 0.0, "host": 0.0}


def test_a_late_tick_does_not_make_the_clock_jump():
    c = PacedClock(120.0, 10_800.0, step_s=2.5, lead_s=2.5)
    c.start(0.0)
    c.advance(0.01)
    before = c.now
    after = c.advance(1.01)  # the host stalled for a whole second: 120 s of river at the ceiling
    assert after - before == pytest.approx(2.5)  # one step, not 120 s
    assert c.holds.host == pytest.approx(1.0 * (1 - 2.5 / 120.0))


def test_the_clock_waits_for_the_oldest_undelivered_reading_and_resumes_after():
    c = PacedClock(120.0, 10_800.0, step_s=2.5, lead_s=2.5)
    c.start(0.0)
    t = [c.advance(0.01 * k, undelivered_s=100.0) for k in range(1, 200)]
    assert max(t) == pytest.approx(102.5)  # never more than lead_s past the reading still on its way
    assert c.holds.delivery > 0.5
    assert c.advance(2.0 + 0.01) > 102.5  # delivered: it goes on


def test_the_clock_waits_for_the_controllers_progress():
    c = PacedClock(math.inf, 10_800.0, step_s=2.5, lead_s=2.5)
    c.start(0.0)
    progress = 0.0
    for k in range(1, 400):
        now = c.advance(0.002 * k, progress_s=progress)
        assert now <= progress + 2.5 + 1e-9
        if k % 4 == 0:  # a controller that answers every fourth tick
            progress = now
    assert c.holds.controller > 0
    assert c.now > 100.0  # and still gets somewhere


def test_speed_max_advances_one_step_a_tick():
    c = PacedClock(math.inf, 100.0, step_s=2.5, lead_s=2.5)
    assert _run(c, 10, dt=0.002)[-1] == pytest.approx(25.0)


def test_a_strict_clock_keeps_wall_time_and_only_measures_its_lag():
    c = PacedClock(120.0, 10_800.0, step_s=2.5, lead_s=2.5, strict=True)
    c.start(0.0)
    c.advance(0.01, undelivered_s=0.0, progress_s=0.0)  # nothing holds a strict clock
    assert c.advance(1.01, undelivered_s=0.0, progress_s=0.0) == pytest.approx(121.2)
    assert c.lag_s(1.5, 121.2) == pytest.approx(0.49 * 120.0)  # a sample taken at 121.2 s, half a second late


def test_the_clock_stops_at_the_end():
    c = PacedClock(120.0, 5.0, step_s=2.5, lead_s=2.5)
    assert _run(c, 100)[-1] == 5.0


def test_bad_clocks_are_refused():
    with pytest.raises(ValueError, match="speed"):
        PacedClock(0.0, 10.0, step_s=1.0, lead_s=1.0)
    with pytest.raises(ValueError, match="strict"):
        PacedClock(math.inf, 10.0, step_s=1.0, lead_s=1.0, strict=True)


def test_the_tracker_knows_the_oldest_reading_still_on_its_way():
    tr = DeliveryTracker()
    tr.published("LS-1", 1, 10.0)
    tr.published("LS-2", 1, 12.0)
    tr.published("LS-1", 2, 20.0)
    assert tr.oldest(0.0) == 10.0
    assert tr.delivered("LS-2", 1) == 12.0  # out of order across devices: LS-1's first is still the oldest
    assert tr.delivered("LS-3", 7) is None  # never tracked (late on purpose): no delay to count
    assert tr.oldest(0.1) == 10.0
    tr.delivered("LS-1", 2)  # a device's later reading arrived: its earlier one is not pending either
    assert tr.oldest(0.2) is None and len(tr) == 0


def test_the_tracker_gives_up_after_its_patience():
    tr = DeliveryTracker()
    tr.published("LS-1", 1, 10.0)
    assert tr.oldest(0.0) == 10.0 and not tr.overdue(5.0, 10.0)
    assert tr.overdue(10.5, 10.0)
    assert tr.give_up() == 1 and tr.oldest(11.0) is None


@pytest.mark.parametrize("t", [0.0, 0.001, 59.999, 65_536.5, 10_800.25, 2**31 + 0.5])
def test_the_clock_registers_hold_simulated_time_to_the_millisecond(t):
    regs = pack_time(t)
    assert all(0 <= r <= 0xFFFF for r in regs)
    assert unpack_time(regs) == pytest.approx(t, abs=5e-4)


def test_speeds_are_parsed_with_clear_errors():
    assert parse_speed("60") == 60.0 and parse_speed("max") == math.inf and parse_speed(" MAX ") == math.inf
    for bad in ("0", "-5", "fast", "nan", "inf"):
        with pytest.raises(ValueError, match="expected a number > 0 or max"):
            parse_speed(bad)
    with pytest.raises(ValueError, match="strict clock"):
        parse_speed("max", strict=True)


# --- timing in the verdict ------------------------------------------------------------------------


def _fleet_timing(**kw):
    base = {
        "mode": "paced",
        "speed_ceiling": 120.0,
        "effective_speed": 80.0,
        "budget_s": 5.0,
        "max_clock_lag_s": 1.0,
        "delivery_delay_s": {"p50": 0.5, "p99": 2.0, "max": 2.4, "n": 100},
        "held_wall_s": {"delivery": 0.0, "controller": 1.0, "host": 0.0},
        "controller_paced": True,
        "notes": [],
    }
    return base | kw


def test_budgets_come_from_the_sampling_interval():
    assert timing_budget_s(10.0) == 5.0
    assert timing.budgets(10.0, controller_paced=True) == {
        "clock_lag_s": 5.0,
        "delivery_delay_s": 5.0,
        "reaction_s": None,
    }
    assert timing.budgets(10.0, controller_paced=False)["reaction_s"] == 15.0


def test_a_run_within_its_budgets_keeps_its_verdict():
    v = {"status": "failed", "passed": False, "failed": ["G04.closing_time"]}
    timing.apply(v, timing.assess(_fleet_timing(), [], 10.0))
    assert v["status"] == "failed" and v["timing"]["broken"] == []


@pytest.mark.parametrize(
    ("fleet", "reactions", "broke"),
    [
        ({"max_clock_lag_s": 7.5}, [], "clock lag: 7.5 s"),
        ({"delivery_delay_s": {"p50": 1.0, "p99": 30.0, "max": 97.0, "n": 100}}, [], "delivery delay"),
        (
            {"controller_paced": False},
            [{"gate": "G01", "action": "close", "reading_s": 100.0, "arrived_s": 177.0, "reaction_s": 77.0}],
            "reaction time: G01 close arrived 77 s after",
        ),
    ],
)
def test_a_broken_budget_makes_the_run_inconclusive_never_failed_or_passed(fleet, reactions, broke):
    for before in ("passed", "failed"):
        v = {"status": before, "passed": before == "passed", "failed": []}
        t = timing.assess(_fleet_timing(**fleet), reactions, 10.0)
        timing.apply(v, t)
        assert v["status"] == "inconclusive" and v["passed"] is False
        assert len(t["broken"]) == 1 and t["broken"][0].startswith(broke)
        assert "this machine sustained 80x (ceiling 120x, paced clock)" in t["advice"]
        assert "--speed 56" in t["advice"]


def test_a_paced_controllers_slow_reaction_is_its_own_not_the_harness():
    slow = [{"gate": "G01", "action": "close", "reading_s": 0.0, "arrived_s": 60.0, "reaction_s": 60.0}]
    t = timing.assess(_fleet_timing(controller_paced=True), slow, 10.0)
    assert t["broken"] == [] and t["reaction_s"]["max"] == 60.0


def test_reaction_times_run_from_the_reading_a_decision_was_based_on_to_its_arrival():
    from twin.models.gate import GateSite

    site = GateSite("G01", "AP-1", "LS-G01", None, "SB-G01", None, 3.0, 20.0, "중랑천")
    events = pd.DataFrame(
        [
            {"time_s": 99.0, "kind": "signboard.display", "entity_id": "SB-G01", "data": '{"lines": ["a"]}'},
            {"time_s": 402.5, "kind": "gate.close_command", "entity_id": "G01", "data": "{}"},
        ]
    )
    decisions = [
        {"time_s": 98.0, "gate": "G01", "action": "warn", "reason": "stage 1.6 m >= 1.5 m", "reading_time_s": 96.0},
        {"time_s": 400.0, "gate": "G01", "action": "close", "reason": "zone empty", "reading_time_s": 396.0},
        {"time_s": 401.0, "gate": "G01", "action": "open", "reason": "level data stale (no reading): fail safe",
         "reading_time_s": None},
    ]  # fmt: skip
    r = timing.reactions_from_decisions(decisions, events, [site])
    assert [(x["action"], x["reaction_s"]) for x in r] == [("warn", 3.0), ("close", 6.5)]
    messages = [
        {"sim_s": 391.0, "topic": "t/LS-G01", "payload": {"sim_time_s": 390.0}},
        {"sim_s": 402.6, "topic": "t/LS-G01", "payload": {"sim_time_s": 400.0}},  # came after the command
    ]
    r = timing.reactions_from_messages(messages, events, [site], {"G01": "t/LS-G01"}, 10.0)
    assert [(x["action"], x["reaction_s"]) for x in r] == [("close", 12.5)]


def test_an_inconclusive_verdict_reads_as_such_in_the_terminal_and_the_report(gate_runs):
    import json

    from sim_devices.hil.cli import EXIT_STATUS
    from twin.city import load_city
    from twin.control.verdict_report import html_report, text_report
    from twin.models.gate import gate_sites
    from twin.results import read_run_folder

    _, folder = gate_runs("gate_stuck_open")
    v = json.loads((folder / "verdict.json").read_text(encoding="utf-8"))
    late = [{"gate": "G01", "action": "close", "reading_s": 0.0, "arrived_s": 77.0, "reaction_s": 77.0}]
    timing.apply(v, timing.assess(_fleet_timing(controller_paced=False), late, 10.0))
    assert EXIT_STATUS[v["status"]] == 3
    text = text_report(v)
    assert "INCONCLUSIVE: a timing budget broke" in text and "FAILED" not in text
    assert "reaction time: G01 close arrived 77 s after" in text and "this machine sustained 80x" in text
    assert "not to be trusted: G04.closed_before_flooding, G04.closing_time" in text
    page = html_report(v, read_run_folder(folder), gate_sites(load_city()))
    assert '<h1 class="inconclusive">INCONCLUSIVE' in page and "h1.inconclusive{" in page


def test_twin_hil_refuses_a_bad_speed_before_starting_anything():
    from click.testing import CliRunner

    from twin.cli import main

    gates = str(Path(__file__).resolve().parents[1] / "scenarios" / "gates" / "flash_flood_gates.yaml")
    r = CliRunner().invoke(main, ["hil", gates, "--speed", "max", "--strict-speed"])
    assert r.exit_code == 2 and "--speed: got max with --strict-speed" in r.output
    r = CliRunner().invoke(main, ["hil", gates, "--speed", "fast"])
    assert r.exit_code == 2 and "--speed: got 'fast': expected a number > 0 or max" in r.output
