"""Tables for people: a run's events with minutes, clock times, plain words and names instead of
event kinds and IDs (see :mod:`twin.app.names`)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pandas as pd

from .names import Names, word

HEADERS = {
    "minute": {"ko": "경과 (분)", "en": "Minute"},
    "clock": {"ko": "시각", "en": "Time"},
    "what": {"ko": "내용", "en": "What"},
    "where": {"ko": "위치", "en": "Where"},
    "details": {"ko": "상세", "en": "Details"},
}
# An id as the models write them in messages: LS-1018665, AP-JN-L01, SB-G01, G01, B00001, CAM-CPZ-001-1.
ID_IN_TEXT = re.compile(r"\b(?:[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+|G\d{2,}|B\d{5,})\b")


def header(key: str, lang: str) -> str:
    """The column header ``key`` (minute, clock, what, where, details) in ``lang``."""
    return HEADERS[key]["ko" if lang == "ko" else "en"]


def events_table(events: pd.DataFrame, names: Names, lang: str, start: dt.datetime | None) -> pd.DataFrame:
    """A run's events (columns time_s, kind, entity_id, message, data) for people, in their order:
    minute since the scenario start (1 decimal), clock time HH:MM (from ``start``, tz-aware; the
    column is left out when None), what happened (plain words), where (the entity's name) and the
    details in ``lang``. No column holds an id."""
    cols = [header(k, lang) for k in ("minute", "clock", "what", "where", "details") if k != "clock" or start]
    if events is None or not len(events):
        return pd.DataFrame(columns=cols)
    times = pd.to_numeric(events["time_s"], errors="coerce").fillna(0.0).astype(float)
    out: dict[str, list[Any]] = {header("minute", lang): [round(s / 60.0, 1) for s in times]}
    if start is not None:
        out[header("clock", lang)] = [clock_time(start, s) for s in times]
    kinds = [str(k) for k in events["kind"]]
    ids = [str(i) for i in events["entity_id"]]
    messages = list(events["message"]) if "message" in events.columns else [""] * len(events)
    datas = list(events["data"]) if "data" in events.columns else [None] * len(events)
    out[header("what", lang)] = [_capital(word("event_kind", k, lang)) for k in kinds]
    out[header("where", lang)] = [names.entity(i, lang) for i in ids]
    out[header("details", lang)] = [
        _capital(details(k, _data(d), str(m or ""), names, lang))
        for k, d, m in zip(kinds, datas, messages, strict=True)
    ]
    return pd.DataFrame(out, columns=cols)


def clock_time(start: dt.datetime, seconds: float) -> str:
    """The clock time ``seconds`` (s) after ``start`` in ``start``'s own zone, ``HH:MM``; ``+N`` when
    it falls N days after the start's day."""
    at = start + dt.timedelta(seconds=float(seconds))
    days = (at.date() - start.date()).days
    return at.strftime("%H:%M") + (f"+{days}" if days else "")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _data(raw: Any) -> dict[str, Any]:
    """An event's data: the JSON text of a run folder, or a dict; {} when unreadable."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw:
        try:
            v = json.loads(raw)
        except ValueError:
            return {}
        return v if isinstance(v, dict) else {}
    return {}


def names_in_text(text: str, names: Names, lang: str) -> str:
    """``text`` with every id it quotes replaced by the entity's name in ``lang``."""
    return ID_IN_TEXT.sub(lambda m: names.entity(m.group(0), lang), text)


def _people(n: Any, lang: str) -> str:
    return f"{int(n)}명" if lang == "ko" else f"{int(n)} {'person' if int(n) == 1 else 'people'}"


def details(kind: str, data: dict[str, Any], message: str, names: Names, lang: str) -> str:
    """What an event says in ``lang``, with units (m, mm, h) and names; the model's own message
    (its ids replaced by names) for a kind without a known layout."""
    ko = lang == "ko"
    try:
        if kind.startswith("stage.threshold_"):
            up = kind.endswith("_up")
            lv = word("level", str(data["level"]), lang)
            if ko:
                return f"{lv} {data['threshold_m']:g} m {'도달' if up else '아래로'}: 수위 {data['stage_m']:.2f} m"
            return f"{lv} {data['threshold_m']:g} m {'reached' if up else 'left'}: stage {data['stage_m']:.2f} m"
        if kind in ("path.flooded", "path.dry"):
            if ko:
                return f"수위 {data['stage_m']:.2f} m, 산책로 높이 {data['path_height_m']:g} m"
            return f"stage {data['stage_m']:.2f} m, path {data['path_height_m']:g} m above the bed"
        if kind.startswith("rain."):
            hours = float(data["window_s"]) / 3600.0
            if ko:
                return f"{hours:g}시간 {data['threshold_mm']:g} mm 도달"
            return f"{data['threshold_mm']:g} mm in {hours:g} h reached"
        if kind == "crowd.evacuation_order":
            n = data.get("people_on_paths", 0)
            return f"산책로 이용자 {_people(n, lang)}" if ko else f"{_people(n, lang)} on the paths"
        if kind == "crowd.gate_warning":
            n = data.get("people_near", 0)
            return f"주변 {_people(n, lang)}에게 대피 안내" if ko else f"{_people(n, lang)} nearby told to leave"
        if kind in ("gate.path_flooded", "gate.closed") and "people_on_path" in data:
            n = data["people_on_path"]
            return f"산책로에 {_people(n, lang)}" if ko else f"{_people(n, lang)} on the path"
        if kind == "signboard.display":
            lines = [str(x) for x in data.get("lines") or []]
            return " / ".join(lines) if lines else word("device_state", "blank", lang)
        if kind == "cctv.objects_inside":
            n = data.get("people")
            if n is not None:
                return f"구역 안 {_people(n, lang)}" if ko else f"{_people(n, lang)} in the zone"
            return word("device_state", "someone" if data.get("inside") else "clear", lang)
        if kind == "collapse_alarm" and "level" in data:
            return word("level", str(data["level"]), lang)
    except (KeyError, TypeError, ValueError):
        pass
    return names_in_text(message, names, lang)
