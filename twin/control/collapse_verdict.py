"""The verdict on a collapse early-warning system, whoever ran it (the reference logic in process,
or an outside system that heard the fleet's uplinks and posted its alarms back).

Per monitored site that failed during the run: was an evacuate alarm given before the failure,
by how much (s), and was everyone out of the danger zone when it failed. Per site that stood:
was it evacuated anyway (a false evacuation). Per sensor the scenario made faulty: how long after
the fault began the system said so (``sensor_suspect``), or that it never did. The system
passes when every failed site was evacuated before failing with nobody left inside, and no
standing site was evacuated. Detection of faulty sensors is reported, not judged: the scenario
may break a sensor in a way nobody could see.

Input: the ``collapse`` section of a run's summary (``sites``, from
:meth:`twin.models.collapse.CollapseModel.summary`) and the fault windows (device, start s).
Times are simulated seconds from the run start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def collapse_verdict(sites: Iterable[Mapping[str, Any]], faults: Iterable[tuple[str, float]] = ()) -> dict[str, Any]:
    """The verdict (see the module docstring) as a JSON-ready mapping."""
    rows = []
    ok = True
    faulty = sorted(faults)
    detections = []
    for s in sites:
        failed = s.get("failure_s") is not None and "inside_at_failure" in s
        evacuated = s.get("evacuated_s") is not None
        row: dict[str, Any] = {"site_id": s["site_id"], "name": s.get("name"), "failed": failed}
        if failed:
            margin = s.get("evacuate_margin_s")
            in_time = evacuated and margin is not None and margin > 0
            inside = int(s.get("inside_at_failure") or 0)
            row.update(evacuated_before_failure=in_time, margin_s=margin, inside_at_failure=inside,
                       passed=in_time and inside == 0)  # fmt: skip
        else:
            row.update(false_evacuation=evacuated, passed=not evacuated)
        if failed or evacuated:
            rows.append(row)
        ok = ok and row["passed"]
        for device, start in faulty:
            if device not in s.get("sensors", ()):
                continue
            said = [
                x["t_s"]
                for x in s.get("sensor_suspects", ())
                if x.get("kind") == "sensor_suspect" and x.get("sensor") == device and x["t_s"] >= start
            ]
            detections.append(
                {"sensor": device, "site_id": s["site_id"], "fault_start_s": start,
                 "detected_after_s": round(min(said) - start, 1) if said else None}
            )  # fmt: skip
    failed_rows = [r for r in rows if r["failed"]]
    return {
        "passed": ok,
        "failed_sites": len(failed_rows),
        "evacuated_in_time": sum(1 for r in failed_rows if r["evacuated_before_failure"]),
        "false_evacuations": sum(1 for r in rows if not r["failed"] and r["false_evacuation"]),
        "sites": rows,
        "faulty_sensors": detections,
    }
