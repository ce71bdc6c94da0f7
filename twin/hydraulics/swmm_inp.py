"""The EPA SWMM 5 input file of a flood run (SI units: CMS flow, m, mm, ha).

The file is complete on its own: rain gauges carry their hyetographs as time series, so an
engineer can open ``model.inp`` in EPA SWMM (coordinates are EPSG:5186 metres) and get the run
the twin reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from ..rainfall import Hyetograph
from .catchments import Subcatchment
from .channel_network import ChannelNetwork, base_flow_state

PONDED_AREA_M2 = 20000.0
"""Area over which water above the bank top spreads at a junction (m²); keeps overflow in the
model (it returns to the channel as the river falls) so mass balance holds."""


def _hhmmss(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600:02d}:{(s % 3600) // 60:02d}:{s % 60:02d}"


def _date(t: datetime) -> tuple[str, str]:
    return t.strftime("%m/%d/%Y"), t.strftime("%H:%M:%S")


def write_inp(
    net: ChannelNetwork,
    subcatchments: list[Subcatchment],
    rain: Mapping[str, Hyetograph],
    *,
    start: datetime,
    duration_s: float,
    routing: str = "dynamic",
    routing_step_s: float = 5.0,
    report_step_s: float = 60.0,
    base_flow_m3s: float = 0.5,
    title: str = "Uijeongbu digital twin",
    initial_state: tuple[dict[str, float], dict[str, float]] | None = None,
) -> str:
    """SWMM input text. ``rain``: rain gauge id -> hyetograph (``depths_mm``, ``interval_s``,
    ``offset_s`` from ``start``); gauges used by a subcatchment but absent from ``rain`` get none.
    ``start`` is the local start time (naive wall-clock time is written; SWMM has no zones).
    ``initial_state``: (conduit flows m³/s, junction depths m) to start from; default the
    normal-depth estimate of the base flow."""
    start = start.replace(tzinfo=None)
    end = start + timedelta(seconds=duration_s)
    jn_top = net.top_nodes[net.main_stem]  # the base flow enters at the top of the main stem
    # start from the steady base flow, not from a dry channel
    if initial_state is None:  # uniform-flow estimate; see steady_state() for SWMM's own
        init_flow, init_depth = base_flow_state(net, source=jn_top, flow_m3s=base_flow_m3s)
    else:
        init_flow, init_depth = initial_state
    sd, st = _date(start)
    ed, et = _date(end)
    L: list[str] = []
    add = L.append
    add("[TITLE]")
    add(title.replace("\n", " "))
    add("")
    add("[OPTIONS]")
    for k, v in [
        ("FLOW_UNITS", "CMS"),
        ("INFILTRATION", "HORTON"),
        ("FLOW_ROUTING", "DYNWAVE" if routing == "dynamic" else "KINWAVE"),
        ("LINK_OFFSETS", "DEPTH"),
        ("MIN_SLOPE", "0"),
        ("ALLOW_PONDING", "YES"),
        ("SKIP_STEADY_STATE", "NO"),
        ("START_DATE", sd),
        ("START_TIME", st),
        ("REPORT_START_DATE", sd),
        ("REPORT_START_TIME", st),
        ("END_DATE", ed),
        ("END_TIME", et),
        ("SWEEP_START", "01/01"),
        ("SWEEP_END", "12/31"),
        ("DRY_DAYS", "0"),
        ("REPORT_STEP", _hhmmss(report_step_s)),
        ("WET_STEP", "00:01:00"),
        ("DRY_STEP", "00:05:00"),
        ("ROUTING_STEP", f"{routing_step_s:g}"),
        ("INERTIAL_DAMPING", "PARTIAL"),
        ("NORMAL_FLOW_LIMITED", "BOTH"),
        ("FORCE_MAIN_EQUATION", "H-W"),
        ("VARIABLE_STEP", "0.75"),
        ("LENGTHENING_STEP", "0"),
        ("MIN_SURFAREA", "12.566"),
        ("MAX_TRIALS", "8"),
        ("HEAD_TOLERANCE", "0.0015"),
        ("SYS_FLOW_TOL", "5"),
        ("LAT_FLOW_TOL", "5"),
        ("THREADS", "1"),
    ]:
        add(f"{k:<20} {v}")
    add("")
    gauges = sorted({s.rain_gauge for s in subcatchments})
    add("[RAINGAGES]")
    add(";;Name           Format    Interval SCF      Source")
    for g in gauges:
        h = rain.get(g)
        interval = _hhmmss(h.interval_s)[:5] if h is not None else "01:00"
        add(f"{g:<16} VOLUME    {interval}    1.0      TIMESERIES TS-{g}")
    add("")
    add("[SUBCATCHMENTS]")
    add(";;Name           Rain Gage        Outlet           Area     %Imperv  Width    %Slope   CurbLen")
    for s in subcatchments:
        add(
            f"{s.name:<16} {s.rain_gauge:<16} {s.outlet:<16} {s.area_ha:<8g} {s.imperv_pct:<8g} "
            f"{s.width_m:<8g} {s.slope_pct:<8g} 0"
        )
    add("")
    add("[SUBAREAS]")
    add(";;Subcatchment   N-Imperv   N-Perv     S-Imperv   S-Perv     PctZero    RouteTo")
    for s in subcatchments:
        add(f"{s.name:<16} 0.015      0.25       2          6          25         OUTLET")
    add("")
    add("[INFILTRATION]")
    add(";;Subcatchment   MaxRate    MinRate    Decay      DryTime    MaxInfil")
    for s in subcatchments:
        # Horton parameters for loam to clay-loam soils (mm/h, 1/h, days)
        add(f"{s.name:<16} 75         6          4          7          0")
    add("")
    add("[JUNCTIONS]")
    add(";;Name           Elevation  MaxDepth   InitDepth  SurDepth   Aponded")
    for j in net.junctions.values():
        if j.name == net.outfall:
            continue
        y0 = init_depth.get(j.name, 0.0)
        add(f"{j.name:<16} {j.invert_m:<10.3f} {j.max_depth_m:<10.2f} {y0:<10.5f} 0          {PONDED_AREA_M2:g}")
    add("")
    add("[OUTFALLS]")
    add(";;Name           Elevation  Type       Stage Data       Gated    Route To")
    add(f"{net.outfall:<16} {net.junctions[net.outfall].invert_m:<10.3f} FREE                        NO")
    add("")
    add("[CONDUITS]")
    add(";;Name           From Node        To Node          Length     Roughness  InOffset   OutOffset  InitFlow")
    for c in net.conduits:
        q0 = init_flow.get(c.name, 0.0)
        add(
            f"{c.name:<16} {c.upstream:<16} {c.downstream:<16} {c.length_m:<10.2f} {c.manning_n:<10.4f} 0          0"
            f"          {q0:.5f}"
        )
    add("")
    add("[XSECTIONS]")
    add(";;Link           Shape        Geom1      Geom2      Geom3      Geom4      Barrels")
    for c in net.conduits:
        add(
            f"{c.name:<16} TRAPEZOIDAL  {c.depth_m:<10.2f} {c.bottom_width_m:<10.2f} {c.side_slope:<10.3f} "
            f"{c.side_slope:<10.3f} 1"
        )
    add("")
    add("[INFLOWS]")
    add(";;Node           Constituent      Time Series      Type     Mfactor  Sfactor  Baseline Pattern")
    if base_flow_m3s > 0:
        add(f'{jn_top:<16} FLOW             ""               FLOW     1.0      1.0      {base_flow_m3s:g}')
    add("")
    add("[TIMESERIES]")
    add(";;Name           Time       Value")
    for g in gauges:
        h = rain.get(g)
        if h is None or float(sum(h.depths_mm)) == 0.0:
            add(f"TS-{g:<13} 0:00       0")
            continue
        t0 = float(h.offset_s)
        if t0 > 0:
            add(f"TS-{g:<13} {_hhmm(0)}       0")
        for step, d in enumerate(h.depths_mm):
            add(f"TS-{g:<13} {_hhmm(t0 + step * h.interval_s)}  {float(d):.4f}")
        add(f"TS-{g:<13} {_hhmm(t0 + len(h.depths_mm) * h.interval_s)}  0")
    add("")
    add("[REPORT]")
    add("INPUT      NO")
    add("CONTROLS   NO")
    add("SUBCATCHMENTS NONE")
    add("NODES ALL")
    add("LINKS NONE")
    add("")
    xs = [j.x for j in net.junctions.values()]
    ys = [j.y for j in net.junctions.values()]
    add("[MAP]")
    add(f"DIMENSIONS {min(xs) - 2000:.1f} {min(ys) - 2000:.1f} {max(xs) + 2000:.1f} {max(ys) + 2000:.1f}")
    add("Units      Meters")
    add("")
    add("[COORDINATES]")
    add(";;Node           X-Coord            Y-Coord   (EPSG:5186)")
    for j in net.junctions.values():
        add(f"{j.name:<16} {j.x:<18.2f} {j.y:.2f}")
    add("")
    add("[VERTICES]")
    for c in net.conduits:
        for x, y in list(c.geometry.coords)[1:-1]:
            add(f"{c.name:<16} {x:<18.2f} {y:.2f}")
    add("")
    add("[Polygons]")
    for s in subcatchments:
        if s.polygon.is_empty or s.polygon.area == 0:
            continue
        geom = s.polygon.simplify(50)
        ring = max(getattr(geom, "geoms", [geom]), key=lambda p: p.area).exterior
        for x, y in list(ring.coords)[:-1]:
            add(f"{s.name:<16} {x:<18.2f} {y:.2f}")
    add("")
    add("[SYMBOLS]")
    return "\n".join(L) + "\n"


def _hhmm(seconds: float) -> str:
    """SWMM relative time 'H:MM' (hours may exceed 24); seconds are rounded to the minute."""
    m = int(round(seconds / 60.0))
    return f"{m // 60}:{m % 60:02d}"


def steady_state(
    net: ChannelNetwork,
    subcatchments: list[Subcatchment],
    *,
    base_flow_m3s: float,
    routing: str,
    routing_step_s: float,
    spin_up_s: float = 24 * 3600.0,
) -> tuple[dict[str, float], dict[str, float]]:
    """SWMM's own steady base-flow state: (conduit flows m³/s, junction depths m).

    Runs the model dry for ``spin_up_s`` from the normal-depth estimate and reads the final
    state, so that a run starting from it begins at rest (no start-up transient to spoil the
    continuity of short runs). The result is written into the run's model.inp as initial
    conditions, which keeps the file self-contained.
    """
    import tempfile
    from datetime import datetime as _dt
    from pathlib import Path

    from pyswmm import Links, Nodes, Simulation

    text = write_inp(
        net,
        subcatchments,
        {},
        start=_dt(2000, 1, 1),
        duration_s=spin_up_s,
        routing=routing,
        routing_step_s=routing_step_s,
        report_step_s=3600.0,
        base_flow_m3s=base_flow_m3s,
        title="steady base flow spin-up",
    )
    from .swmm_run import swmm_error

    with tempfile.TemporaryDirectory(prefix="twin-spinup-") as tmp:
        inp = Path(tmp) / "spinup.inp"
        inp.write_text(text, encoding="utf-8")
        try:
            with Simulation(str(inp)) as sim:
                sim.step_advance(int(spin_up_s))
                for _ in sim:
                    pass
                nodes = Nodes(sim)
                depths = {j: float(nodes[j].depth) for j in net.junctions if j != net.outfall}
                links = Links(sim)
                flows = {c.name: float(links[c.name].flow) for c in net.conduits}
        except Exception as exc:  # noqa: BLE001 - pyswmm raises bare exceptions; a scenario value can cause them
            raise swmm_error("SWMM could not run the base-flow spin-up", exc, inp.with_suffix(".rpt")) from exc
    return flows, depths
