"""Key figures of a run, as numbers (planners) and as plain sentences (living-lab workshops).

Everything is read from a run's ``summary.json``; nothing is computed again. Times are seconds in
the summary and minutes on screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..city import CityModel
from .i18n import t

LEVEL_KO = {"attention": "관심", "caution": "주의", "alert": "경계", "serious": "심각"}


@dataclass(frozen=True)
class KeyGauge:
    """The city's headline gauge (the dataset's ``hydrology.key_gauge``) as people name it:
    ``site`` 신곡교 for the WAMIS name 의정부시(신곡교), on ``stream`` 중랑천 (``stream_en`` Jungnangcheon)."""

    device_id: str
    site: str
    stream: str
    stream_en: str

    def words(self, lang: str) -> dict[str, str]:
        """Fields for the texts of :mod:`twin.app.i18n` that name the gauge, in ``lang`` (ko/en)."""
        return {"gauge": self.site, "stream": self.stream if lang == "ko" else self.stream_en}


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
    return KeyGauge(gid, site, stream, str(en[0]) if en else stream)


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
        out["people_on_path"] = sum(o.get("people_on_paths", 0) for o in orders.values())
        out["people_exposed"] = c.get("exposed_people", 0)
        out["evac_t90"] = c.get("t90_s")
        out["evac_t100"] = c.get("t100_s")
    return out


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
                "paths", t("ll_paths", lang), f"{n} / {of}", t("ll_paths_sentence", lang).format(n=n, of=of), n == 0
            )
        )
    if k.get("evac_t100") is not None:
        m = _min(k["evac_t100"])
        out.append(
            PlainKpi(
                "all_safe",
                t("ll_all_safe", lang),
                t("ll_minutes", lang).format(m=m),
                t("ll_all_safe_sentence", lang).format(m=m, n=k["people_on_path"]),
                None,
            )
        )
    g = summary.get("gauges", {}).get(key.device_id) if key else None
    if g and key:
        level = g.get("highest_level")
        name = (LEVEL_KO.get(level, level) if lang == "ko" else level) if level else t("ll_no_level", lang)
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
