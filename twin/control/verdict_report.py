"""The verdict for people: a table in the terminal, and an HTML page with the table and, for each
gate, its timeline (stage at the access point against the path height; warning, closing, flooding).
Times are simulated seconds from the scenario start, shown as h:mm; stages m."""

from __future__ import annotations

import base64
import html
import io
import json
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from .verdict import CHECKS

SHORT = {
    "closed_before_flooding": "closed before flood (s)",
    "warning_before_closure": "warning first (s)",
    "people_on_path_at_closure": "people at closure",
    "people_on_path_at_flooding": "people at flood",
    "closing_time": "closing time (s)",
    "false_closures": "false closures",
    "sensor_failure_detection": "dead sensor (s)",
    "rejected_commands": "rejected cmds",
}


def _cell(r: dict) -> str:
    mark = "ok" if r["passed"] else "FAIL"
    v = r["value"]
    if v is None:
        return mark
    return f"{mark} {v:g}" if isinstance(v, (int, float)) else f"{mark} {v}"


def status_of(verdict: dict) -> str:
    """passed, failed or inconclusive (older verdicts have only ``passed``)."""
    return verdict.get("status") or ("passed" if verdict["passed"] else "failed")


def timing_lines(timing: dict | None) -> list[str]:
    """The timing of a HIL run in a few lines (simulated s)."""
    if not timing:
        return []
    d, r, b = timing.get("delivery_delay_s") or {}, timing.get("reaction_s") or {}, timing.get("budgets_s") or {}
    fmt = lambda x: "-" if x is None else f"{x:g}"  # noqa: E731
    reaction_budget = "the clock waited for the controller" if b.get("reaction_s") is None else (
        f"budget {fmt(b['reaction_s'])} s")  # fmt: skip
    return [
        f"timing: {timing.get('sustained', '')}; clock lag {fmt(timing.get('max_clock_lag_s'))} s at worst "
        f"(budget {fmt(b.get('clock_lag_s'))} s)",
        f"  delivery of readings p50 {fmt(d.get('p50'))} s, p99 {fmt(d.get('p99'))} s, max {fmt(d.get('max'))} s "
        f"(budget {fmt(b.get('delivery_delay_s'))} s); controller reaction p50 {fmt(r.get('p50'))} s, "
        f"max {fmt(r.get('max'))} s ({reaction_budget})",
        *(f"  note: {n}" for n in timing.get("notes") or []),
    ]


def text_report(verdict: dict) -> str:
    """A fixed-width table: a row per gate, a column per check; then the failures in words and,
    for a HIL run, its timing (an inconclusive run says which budget broke)."""
    cols = ["gate", *[SHORT[c] for c in CHECKS]]
    rows = [[g, *[_cell(checks[c]) for c in CHECKS]] for g, checks in verdict["gates"].items()]
    widths = [max(len(str(x)) for x in col) for col in zip(cols, *rows, strict=True)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True))  # noqa: E731
    out = [line(cols), line(["-" * w for w in widths]), *map(line, rows), ""]
    timing: dict[str, Any] = verdict.get("timing") or {}  # a HIL run's timing; none in process
    out += timing_lines(timing)
    status = status_of(verdict)
    if status == "inconclusive":
        out.append("INCONCLUSIVE: a timing budget broke, so this run cannot judge the controller")
        out += [f"  {b}" for b in timing["broken"]]
        out.append(f"  {timing.get('advice', '')}")
        if verdict["failed"]:
            out.append(f"  (checks that did not pass, not to be trusted: {', '.join(verdict['failed'])})")
    elif status == "passed":
        out.append(f"PASSED: every check of {len(rows)} gates")
    else:
        out.append(f"FAILED: {len(verdict['failed'])} checks")
        for key in verdict["failed"]:
            g, c = key.split(".", 1)
            gate = verdict["gates"].get(g)
            detail = gate[c]["detail"] if gate else "the controller exited with an error"
            out.append(f"  {g} {c}: {detail}")
    return "\n".join(out)


def _timelines_png(verdict: dict, run, sites) -> str:
    """Small multiples: for each gate, stage at its access point, the path height and the events."""
    try:
        stage = run.series("stage")
    except (KeyError, ValueError):
        stage = None
    ev = run.events
    n = len(sites)
    ncols = 2 if n > 1 else 1
    nrows = (n + ncols - 1) // ncols
    fig = Figure(figsize=(11, 2.2 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    marks = {
        "signboard.display": ("#ff7f00", "warning"),
        "gate.close_command": ("#6a3d9a", "close cmd"),
        "gate.closed": ("#33a02c", "closed"),
        "gate.open": ("#1f78b4", "open"),
        "gate.path_flooded": ("#e31a1c", "path flooded"),
    }
    for ax, site in zip(axes, sites, strict=False):
        if stage is not None and site.access_id in stage.columns:
            s = stage[site.access_id].dropna()
            ax.plot(s.index / 3600, s.values, color="#444444", lw=1.2)
        if site.path_height_m is not None:
            ax.axhline(site.path_height_m, color="#e31a1c", ls="--", lw=0.8)
        for kind, (color, label) in marks.items():
            ent = site.signboard_id if kind == "signboard.display" else site.gate_id
            sel = ev[(ev["kind"] == kind) & (ev["entity_id"] == ent)]
            if kind == "signboard.display" and len(sel):
                shown = [bool(json.loads(d or "{}").get("lines")) for d in sel["data"]]
                sel = sel[pd.Series(shown, index=sel.index, dtype=bool)]
            for t in sel["time_s"]:
                ax.axvline(float(t) / 3600, color=color, lw=1.0, label=label)
        ok = verdict["gates"][site.gate_id]
        bad = [SHORT[c] for c in CHECKS if not ok[c]["passed"]]
        ax.set_title(
            f"{site.gate_id} {site.access_id}: " + ("all checks passed" if not bad else "FAILED " + ", ".join(bad)),
            fontsize=8,
            color="#b00000" if bad else "#006000",
        )
        ax.tick_params(labelsize=7)
        ax.set_ylabel("stage (m)", fontsize=7)
    for ax in axes[n:]:
        ax.set_visible(False)
    handles, labels = [], []
    for ax in axes[:n]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    if handles:
        fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=8)
    axes[min(n, len(axes)) - 1].set_xlabel("hours from the start", fontsize=7)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def html_report(verdict: dict, run, sites) -> str:
    """A self-contained page: the verdict, the table of checks with their details, the timelines."""
    esc = html.escape
    status = status_of(verdict)
    head = {
        "passed": "PASSED",
        "failed": f"FAILED ({len(verdict['failed'])} checks)",
        "inconclusive": "INCONCLUSIVE: a timing budget broke",
    }[status]
    timing = verdict.get("timing")
    caption = (
        "<p><b>The checks as measured, in grey: this run cannot judge the controller.</b></p>"
        if status == "inconclusive"
        else ""
    )
    why = ""
    if timing:
        broken = "".join(f"<li>{esc(b)}</li>" for b in timing.get("broken") or [])
        advice = f"<p>{esc(timing.get('advice', ''))}</p>" if broken else ""
        lines = "<br>".join(esc(x) for x in timing_lines(timing))
        why = f'<div class="timing {status}"><ul>{broken}</ul>{advice}<p><small>{lines}</small></p></div>'

    name = verdict.get("scenario", {}).get("name", {})
    rows = []
    for g, checks in verdict["gates"].items():
        cells = "".join(
            f'<td class="{"ok" if checks[c]["passed"] else "bad"}" title="{esc(checks[c]["detail"])}">'
            f"{esc(_cell(checks[c]))}<br><small>{esc(checks[c]['detail'])}</small></td>"
            for c in CHECKS
        )
        rows.append(f"<tr><th>{esc(g)}</th>{cells}</tr>")
    header = "".join(f"<th>{esc(SHORT[c])}</th>" for c in CHECKS)
    png = _timelines_png(verdict, run, sites)
    return f"""<!doctype html><html lang="en"><meta charset="utf-8">
<title>Gate verdict: {esc(name.get("en", ""))}</title>
<style>body{{font-family:sans-serif;margin:1em}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #ccc;padding:4px;vertical-align:top}}td.ok{{background:#e8f5e9}}td.bad{{background:#ffebee}}
small{{color:#555}}h1.passed{{color:#1b5e20}}h1.failed{{color:#b71c1c}}
h1.inconclusive{{color:#8a5a00;background:#fff3cd;padding:4px}}div.timing.inconclusive{{background:#fff3cd;padding:4px}}
table.inconclusive td.ok,table.inconclusive td.bad{{background:#f3f3f3;color:#666}}
</style>
<h1 class="{status}">{esc(head)}</h1>{why}
<p>{esc(name.get("ko", ""))} / {esc(name.get("en", ""))}. Controller: {esc(verdict.get("controller") or "-")}.
Times are from the scenario start (h:mm:ss).</p>
{caption}<table class="{status}"><tr><th>gate</th>{header}</tr>{"".join(rows)}</table>
<h2>Timelines</h2><img alt="stage at each gate with its warning, closing and flooding"
 src="data:image/png;base64,{png}" style="max-width:100%">
</html>"""
