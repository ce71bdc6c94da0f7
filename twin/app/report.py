"""A self-contained HTML report of a run for a workshop: KPIs, charts as embedded PNGs, events."""

from __future__ import annotations

import base64
import html
import io

from matplotlib.figure import Figure

from .i18n import t


def _png(df, title: str, *, bars: bool = False) -> str:
    fig = Figure(figsize=(9, 3.2))
    ax = fig.subplots()
    if df is not None and len(df):
        x = df.index.to_numpy() / 3600.0
        for col in df.columns:
            if bars:
                ax.bar(x, df[col].to_numpy(), width=(x[1] - x[0]) if len(x) > 1 else 0.01, alpha=0.5, label=col)
            else:
                ax.plot(x, df[col].to_numpy(), label=col)
        ax.legend(fontsize=7)
    ax.set_xlabel("h")
    ax.set_title(title, fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def report_html(summary, stage, rain, events, lang: str) -> str:
    """One HTML file (no external resources): scenario, KPIs, stage and rain charts, events."""
    from .pages import _kpis

    k = _kpis(summary)
    stage_png, rain_png = _png(stage, "stage (m)"), _png(rain, "rain (mm)", bars=True)
    head = "<tr><th>min</th><th>kind</th><th>id</th><th>message</th></tr>"
    name = summary.get("scenario", {}).get("name", {}).get(lang, "")
    rows = "".join(
        f"<tr><th>{html.escape(t(key, lang))}</th><td>{html.escape(str(val))}</td></tr>" for key, val in k.items()
    )
    ev = "".join(
        f"<tr><td>{r.time_s / 60:.0f}</td><td>{html.escape(r.kind)}</td><td>{html.escape(r.entity_id)}</td>"
        f"<td>{html.escape(r.message)}</td></tr>"
        for r in events.head(200).itertuples()
    )
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(name)}</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:auto;font-size:18px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}</style></head><body>
<h1>{html.escape(t("title", lang))}</h1><h2>{html.escape(name)}</h2>
<table>{rows}</table>
<h3>{html.escape(t("stage_chart", lang))}</h3><img alt="stage" src="data:image/png;base64,{stage_png}">
<h3>{html.escape(t("rain_chart", lang))}</h3><img alt="rain" src="data:image/png;base64,{rain_png}">
<h3>{html.escape(t("events", lang))}</h3><table>{head}{ev}</table>
</body></html>"""
