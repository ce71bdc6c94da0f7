"""Key figures of a run, as numbers (planners) and as plain sentences (living-lab workshops).

Everything is read from a run's ``summary.json``; nothing is computed again. Times are seconds in
the summary and minutes on screen; every value is shown with its unit (:func:`kpi_value`), every
KPI has an explanation for its hover help (:func:`kpi_help`), and the comparison of two runs says
for each KPI whether the proposal is better or worse (:func:`compare_rows`, :func:`compare_styler`).

The two "people" figures are different things: ``people_on_path`` counts the people on the
riverside paths at the moment of the evacuation order(s), the people who had to leave;
``people_exposed`` the people the water actually reached on a path (cumulative to the run's end).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pandas as pd

from ..city import CityModel
from .i18n import TEXT, t

LEVEL_KO = MappingProxyType({"attention": "관심", "caution": "주의", "alert": "경계", "serious": "심각"})


@dataclass(frozen=True)
class KeyGauge:
    """The city's headline gauge (the dataset's ``hydrology.key_gauge``) as people name it:
    ``site`` 신곡교 for the WAMIS name 의정부시(신곡교), on ``stream`` 중랑천 (``stream_en`` Jungnangcheon)."""

    device_id: str
    site: str
    stream: str
    stream_en: str
    site_en: str = ""  # "Singok bridge (신곡교)"; the Korean site when empty

    def words(self, lang: str) -> dict[str, str]:
        """Fields for the texts of :mod:`twin.app.i18n` that name the gauge, in ``lang`` (ko/en)."""
        if lang == "ko":
            return {"gauge": self.site, "stream": self.stream}
        return {"gauge": self.site_en or self.site, "stream": self.stream_en}


def key_gauge(city: CityModel) -> KeyGauge | None:
    """The key gauge of ``city`` with its names, or None when the dataset names none."""
    gid = city.river_gauges.key_gauge
    level = city.devices_of_kind("level_sensor")
    rows = level[level["device_id"] == gid] if gid is not None and len(level) else level.iloc[:0]
    if gid is None or not len(rows):
        return None
    row = rows.iloc[0]
    name = row.get("name") if isinstance(row.get("name"), str) else gid
    site = m.group(1) if (m := re.fullmatch(r".*\((.+)\)\s*", name)) else name  # WAMIS: 시군(지점)
    stream = str(row["stream"])
    streams = city.layer("streams")
    en = list(streams.loc[streams["name"] == stream, "name_en"]) if len(streams) else []
    from .names import has_hangul, romanize_place

    site_en = f"{romanize_place(site)} ({site})" if has_hangul(site) else site
    return KeyGauge(gid, site, stream, str(en[0]) if en else stream, site_en)


def kpis(summary: dict[str, Any], key: KeyGauge | None) -> dict[str, Any]:
    """Numbers for the KPI table: peak stage at the ``key`` gauge (m), paths flooded (count, of),
    shortest warning (s), people on the path at the order and when it flooded, time for 90 % and
    everyone to be safe (s)."""
    out: dict[str, Any] = {}
    g = summary.get("gauges", {}).get(key.device_id) if key else None
    if g:
        out["peak_stage"] = g["peak_stage_m"]
    fp = summary.get("flooded_paths")
    if fp:
        out["paths_flooded"] = (fp["count"], len(summary.get("access_points", {})))
        out["warning_min"] = fp["min_warning_lead_time_s"]
    c = summary.get("crowd")
    if c:
        orders = c.get("evacuation_orders", {})
        # None when no order was given: nobody was told to leave, which is not "0 people"
        out["people_on_path"] = sum(o.get("people_on_paths", 0) for o in orders.values()) if orders else None
        out["people_exposed"] = c.get("exposed_people", 0)
        out["evac_t90"] = c.get("t90_s")
        out["evac_t100"] = c.get("t100_s")
    return out


KPIS = ("peak_stage", "paths_flooded", "warning_min", "people_on_path", "people_exposed", "evac_t90", "evac_t100")
"""Every KPI of :func:`kpis`, in the order they are shown."""
COMPARED = KPIS[:6]
"""The KPIs of the comparison table (:func:`compare_rows`)."""
HIGHER_IS_BETTER = frozenset({"warning_min"})
# Figures that describe the situation rather than an outcome: a change is neither better nor worse
# (fewer people on the paths at the order can mean an order given later, or none at all).
NO_DIRECTION = frozenset({"people_on_path"})
"""KPIs where more is better (a longer warning); for every other KPI less is better: peak stage (m),
paths flooded, people on the paths at the order, people the water reached, evacuation times (min)."""
VERDICT_CSS = (
    ("better", "background-color: #d8f0d2; color: #1b5e20"),
    ("worse", "background-color: #fbd5d0; color: #a4161a"),
    ("same", "background-color: #eceff1; color: #455a64"),
    ("changed", "background-color: #eceff1; color: #455a64"),  # a figure with no better side
)
"""Cell style of each verdict in :func:`compare_styler`: green better, red worse, grey same."""
MISSING = "–"
"""What a table shows for a figure one run does not have."""


def kpi_label(kpi: str, lang: str, key: KeyGauge | None = None) -> str:
    """The KPI's name in ``lang`` (ko/en); the peak stage names the ``key`` gauge (신곡교, 중랑천)."""
    if kpi == "peak_stage":
        return t(kpi, lang).format(**key.words(lang)) if key is not None else t("stage_axis", lang)
    return t(kpi, lang)


def kpi_help(kpi: str, lang: str, *, key: KeyGauge | None = None, k: dict[str, Any] | None = None) -> str:
    """What the KPI means and which way is better, in ``lang`` (ko/en), for a hover help
    (``st.metric(help=...)``); the peak stage ends with the ``key`` gauge's device id. With the run's
    ``k`` (from :func:`kpis`), a value whose short form leaves words out (the warning: ``"71분 늦음"``)
    is first told in full (``"경보 없음: 첫 경보보다 71분 먼저 침수"``)."""
    text = t(f"help_{kpi}", lang)
    if kpi == "peak_stage" and key is not None:
        text += f" ({t('device_id', lang)}: {key.device_id})"
    if k is not None and kpi in k and (full := kpi_value(kpi, k, lang)) != kpi_value(kpi, k, lang, form="short"):
        text = f"{full}. {text}"
    return text


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


FORMS = ("long", "medium", "short")
"""How much a value says: ``long`` in full (help, reports), ``medium`` for a table cell, ``short`` for
an ``st.metric`` value (a third of the page wide)."""


def warning_words(lead_s: float | None, flooded: int, lang: str, *, form: str = "long") -> str:
    """The shortest warning before a path flooded (``lead_s``, s; negative when a path flooded before
    its first alert) in words with its unit, never with a minus sign: ``"12 분"``; a late one
    ``"No warning: flooded 71 min before the first alert"`` (``long``), ``"No warning (71 min late)"``
    (``medium``), ``"71 min late"`` (``short``). Without a lead, whether ``flooded`` paths went
    under water with no alert at all or none flooded."""
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}; use one of {', '.join(FORMS)}")
    if not _finite(lead_s):
        if not flooded:
            return t("warn_no_flood_short" if form == "short" else "warn_no_flood", lang)
        return t("warn_no_alert" if form == "long" else "no_warning_short", lang)
    m = round(float(lead_s) / 60.0)  # type: ignore[arg-type]
    if float(lead_s) >= 0:  # type: ignore[arg-type]
        return t("v_minutes", lang).format(m=m)
    if not m:  # less than half a minute before the first alert
        return t("warn_just_before" if form == "long" else "no_warning_short", lang)
    return t({"long": "warn_late", "medium": "warn_late_medium", "short": "warn_late_short"}[form], lang).format(m=-m)


def kpi_value(kpi: str, k: dict[str, Any], lang: str, *, form: str = "long") -> str:
    """The value of ``kpi`` in ``k`` (from :func:`kpis`) with its unit, in ``lang`` (ko/en):
    ``"2.41 m"``, ``"3 / 120 곳"``, ``"6.8 분"``, ``"441 명"``; :data:`MISSING` when the run has none.
    ``form`` (:data:`FORMS`) only shortens the warning's words (:func:`warning_words`)."""
    if kpi not in k:
        return MISSING
    v = k[kpi]
    if kpi == "warning_min":
        return warning_words(v, (k.get("paths_flooded") or (0, 0))[0], lang, form=form)
    if kpi == "evac_t100" and v is None and _finite(k.get("evac_t90")):
        return t("not_all_safe", lang)
    if kpi == "paths_flooded":
        return t("v_of", lang).format(n=v[0], of=v[1]) if v else MISSING
    if kpi == "people_on_path" and v is None:
        return t("no_order", lang)
    if not _finite(v):
        return MISSING
    if kpi == "peak_stage":
        return f"{v:.2f} m"
    if kpi in ("people_on_path", "people_exposed"):
        return t("v_people", lang).format(n=int(v))
    return t("v_minutes", lang).format(m=f"{v / 60.0:.1f}")  # evac_t90, evac_t100


def kpi_measure(kpi: str, k: dict[str, Any]) -> float | None:
    """The number :func:`compare_rows` compares, rounded as :func:`kpi_value` shows it (m to 0.01,
    warning to whole minutes, evacuation times to 0.1 min, counts exact). No warning because no path
    flooded is +inf (the best), paths flooded with no alert at all -inf, not everyone safe +inf; None
    without the figure."""
    if kpi not in k:
        return None
    v = k[kpi]
    if kpi == "paths_flooded":
        return float(v[0]) if v else None
    if kpi == "warning_min":
        if _finite(v):
            return float(round(v / 60.0))
        return -math.inf if (k.get("paths_flooded") or (0, 0))[0] else math.inf
    if kpi == "evac_t100" and v is None and _finite(k.get("evac_t90")):
        return math.inf
    if not _finite(v):
        return None
    if kpi == "peak_stage":
        return round(float(v), 2)
    if kpi in ("evac_t90", "evac_t100"):
        return round(float(v) / 60.0, 1)
    return float(v)


def _difference(kpi: str, d: float, lang: str) -> str:
    """The difference proposal - baseline ``d`` with its sign and unit."""
    if kpi == "peak_stage":
        return f"{d:+.2f} m" if d else "0.00 m"
    if kpi in ("evac_t90", "evac_t100"):
        return t("v_minutes", lang).format(m=f"{d:+.1f}" if d else "0.0")
    n = f"{int(d):+d}" if d else "0"
    if kpi == "paths_flooded":
        return t("v_places", lang).format(n=n)
    if kpi == "warning_min":
        return t("v_minutes", lang).format(m=n)
    return t("v_people", lang).format(n=n)


def verdict(kpi: str, base: float | None, prop: float | None) -> str | None:
    """``better``, ``worse`` or ``same`` for the proposal's ``prop`` against the baseline's ``base``
    (numbers of :func:`kpi_measure`), knowing which way is better for ``kpi``; None without both."""
    if base is None or prop is None:
        return None
    if base == prop:
        return "same"
    if kpi in NO_DIRECTION:
        return "changed"
    return "better" if (prop > base) == (kpi in HIGHER_IS_BETTER) else "worse"


def compare_rows(
    base_summary: dict[str, Any], prop_summary: dict[str, Any], lang: str, key: KeyGauge | None
) -> pd.DataFrame:
    """The comparison of a proposal with the baseline, one row per KPI either run has: columns
    ``KPI`` (its name), baseline and proposal (values with units, ``medium`` form), difference (proposal - baseline,
    with its sign and unit) and the verdict in words (나아짐/나빠짐/같음, better/worse/same), the
    column titles in ``lang``. A figure one run lacks is :data:`MISSING`, and so are its difference
    and verdict."""
    kb, kp = kpis(base_summary, key), kpis(prop_summary, key)
    cols = ["KPI", t("baseline", lang), t("proposal", lang), t("difference", lang), t("verdict", lang)]
    rows = []
    for kpi in COMPARED:
        if kpi not in kb and kpi not in kp:
            continue
        b, q = kpi_measure(kpi, kb), kpi_measure(kpi, kp)
        both = b is not None and q is not None and math.isfinite(b) and math.isfinite(q)
        diff = _difference(kpi, round(q - b, 2), lang) if both else MISSING  # type: ignore[operator]
        word = verdict(kpi, b, q)
        rows.append(
            [
                kpi_label(kpi, lang, key),
                kpi_value(kpi, kb, lang, form="medium"),
                kpi_value(kpi, kp, lang, form="medium"),
                diff,
                t(word, lang) if word else MISSING,
            ]
        )
    return pd.DataFrame(rows, columns=cols)


def compare_styler(df: pd.DataFrame):
    """``df`` of :func:`compare_rows` as a pandas Styler for ``st.dataframe``: the verdict and the
    difference cells of each row coloured by the verdict (green better, red worse, grey same)."""
    css = {t(word, lang): style for word, style in VERDICT_CSS for lang in TEXT["verdict"]}
    verdict_col = next((c for c in df.columns if c in {t("verdict", lang) for lang in TEXT["verdict"]}), None)
    diff_cols = {t("difference", lang) for lang in TEXT["difference"]}
    coloured = [c for c in df.columns if c == verdict_col or c in diff_cols]

    def row_style(row: pd.Series) -> list[str]:
        style = css.get(row[verdict_col], "") if verdict_col is not None else ""
        return [style if c in coloured else "" for c in row.index]

    return df.style.apply(row_style, axis=1)


@dataclass(frozen=True)
class PlainKpi:
    """One figure for a workshop: a short label, the value as people say it, and a sentence."""

    key: str
    label: str
    value: str
    sentence: str
    good: bool | None  # True reassuring, False worrying, None neutral


def _min(seconds: float) -> int:
    return int(round(seconds / 60.0))


def plain_kpis(summary: dict[str, Any], lang: str, key: KeyGauge | None) -> list[PlainKpi]:
    """The run told in a few plain figures, in ``lang`` (ko/en); the stage is the ``key`` gauge's."""
    k = kpis(summary, key)
    out: list[PlainKpi] = []
    if "people_exposed" in k:
        n = int(k["people_exposed"])
        out.append(
            PlainKpi(
                "people_exposed",
                t("ll_exposed", lang),
                t("ll_people", lang).format(n=n),
                t("ll_exposed_none" if n == 0 else "ll_exposed_some", lang).format(n=n),
                n == 0,
            )
        )
    if "warning_min" in k and k["warning_min"] is None and k["paths_flooded"][0]:
        out.append(
            PlainKpi(
                "warning",
                t("ll_warning", lang),
                t("no_warning_short", lang),
                t("ll_warning_none", lang).format(n=k["paths_flooded"][0]),
                False,
            )
        )
    if "warning_min" in k and k["warning_min"] is not None:
        m = _min(k["warning_min"])
        if m >= 0:
            out.append(
                PlainKpi(
                    "warning",
                    t("ll_warning", lang),
                    t("ll_minutes", lang).format(m=m),
                    t("ll_warning_ok", lang).format(m=m),
                    m >= 10,
                )
            )
        else:
            out.append(
                PlainKpi(
                    "warning",
                    t("ll_warning", lang),
                    t("ll_late", lang).format(m=-m),
                    t("ll_warning_late", lang).format(m=-m),
                    False,
                )
            )
    if "paths_flooded" in k:
        n, of = k["paths_flooded"]
        out.append(
            PlainKpi(
                "paths",
                t("ll_paths", lang),
                t("v_of", lang).format(n=n, of=of),
                t("ll_paths_sentence", lang).format(n=n, of=of),
                n == 0,
            )
        )
    if k.get("evac_t100") is not None:
        m = _min(k["evac_t100"])
        out.append(
            PlainKpi(
                "all_safe",
                t("ll_all_safe", lang),
                t("ll_minutes", lang).format(m=m),
                t("ll_all_safe_sentence", lang).format(m=m, n=k.get("people_on_path") or 0),
                None,
            )
        )
    g = summary.get("gauges", {}).get(key.device_id) if key else None
    if g and key:
        level = g.get("highest_level")
        name = (t(f"level_{level}", lang) if f"level_{level}" in TEXT else level) if level else t("ll_no_level", lang)
        out.append(
            PlainKpi(
                "peak",
                t("ll_peak", lang).format(**key.words(lang)),
                f"{g['peak_stage_m']:.1f} m",
                t("ll_peak_sentence", lang).format(h=g["peak_stage_m"], level=name, **key.words(lang)),
                None,
            )
        )
    return out
