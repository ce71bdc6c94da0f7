"""What people see instead of IDs: the display name of every entity of a city in Korean or
English, plain words for every enumeration, and the title of a scenario file.

- :class:`Names` maps any id a run writes (device, access point, stream reach, stream name,
  building, slope, facility, dong) to a name in ``lang`` ("ko" or "en"). Built once per city from
  its layers (EPSG:5186, m); an unknown id is shown as itself.
- :func:`word` gives plain words for an enumeration key (``word("level", "alert", "en")``).
- :func:`scenario_label` reads a scenario YAML's ``name``.

English names never leave Hangul alone: a Korean name without an English one in the dataset is
romanized (Revised Romanization, :mod:`korean_romanizer`) with its common suffixes translated
(교 -> bridge, 초등학교 -> Elementary School, 로 -> -ro); the Hangul may follow in brackets.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .i18n import TEXT, t

if TYPE_CHECKING:
    from ..city import CityModel

LANGS = ("ko", "en")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ROAD_NEAR_M = 600.0  # an access point is named after the nearest named street within this distance (m)

# Korean words of the dataset's generated names and their English (lower case: they go mid-phrase).
GLOSSARY: Mapping[str, str] = MappingProxyType(
    {
        "교사동": "classroom building",
        "다세대주택": "multi-family house",
        "단독주택": "house",
        "상가": "shop building",
        "아파트": "apartment building",
        "급경사지": "steep slope",
        "어린이보호구역": "children's protection zone",
        "스마트": "smart",
        "횡단보도": "crosswalk",
        "진출입로": "access",
        "차단시설": "gate",
        "재해문자전광판": "signboard",
        "전광판": "signboard",
        "수위계": "water-level sensor",
        "강우계": "rain gauge",
        "기울기": "tilt",
        "균열": "crack",
        "센서": "sensor",
        "신축계": "extensometer",
    }
)

# Suffixes of place names and their English (a leading space: a separate word); tried longest first.
_PLACE_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("공업고등학교", " Technical High School"),
    ("여자고등학교", " Girls' High School"),
    ("여자중학교", " Girls' Middle School"),
    ("고등학교", " High School"),
    ("중학교", " Middle School"),
    ("초등학교", " Elementary School"),
    ("초교", " Elementary School"),
    ("과학고등학교", " Science High School"),
    ("학교", " School"),
    ("노인종합복지관", " Senior Welfare Center"),
    ("복지관", " Welfare Center"),
    ("어린이집", " Daycare Center"),
    ("유치원", " Kindergarten"),
    ("차량기지", " Depot"),
    ("기지", " Base"),
    ("시청", " City Hall"),
    ("보건소", " Health Center"),
    ("병원", " Hospital"),
    ("경찰서", " Police Station"),
    ("소방서", " Fire Station"),
    ("대교", " Bridge"),
    ("교", " bridge"),
    ("역", " Station"),
    ("대로", "-daero"),
    ("로", "-ro"),
    ("길", "-gil"),
    ("동", "-dong"),
)
PLACE_SUFFIXES = tuple(sorted(_PLACE_SUFFIXES, key=lambda p: -len(p[0])))
# Whole words that are common nouns, not names: translated, never romanized as a street.
PLACE_WORDS = {"산책로": "riverside path", "진출입로": "ramp", "자전거길": "cycle path", "보도": "sidewalk"}

BANK = {"left": ("좌안", "left-bank"), "right": ("우안", "right-bank")}
ACCESS_KIND = {"ramp": ("진출입로", "ramp"), "stairs": ("계단 진출입로", "stairs")}

# How a device kind is named after the thing it serves (ko word after the place, en word before it).
DEVICE_AT = {
    "gate": ("차단시설", "gate"),
    "level_sensor": ("수위계", "water-level sensor"),
    "rain_gauge": ("강우계", "rain gauge"),
    "signboard": ("전광판", "signboard"),
    "cctv": ("AI CCTV", "AI CCTV"),
}
# The words a generated device name ends with (ko), to find the place it names.
DEVICE_SUFFIX_KO = {
    "tilt_sensor": ("기울기 센서",),
    "crack_sensor": ("균열 센서",),
    "extensometer": ("신축계",),
    "signboard": ("재해문자전광판", "전광판"),
    "crosswalk": ("스마트 횡단보도",),
    "cctv": ("AI CCTV", "CCTV"),
    "level_sensor": ("수위계",),
    "rain_gauge": ("강우계",),
    "gate": ("진출입로 차단시설", "차단시설"),
}

# --- plain words for enumerations -------------------------------------------------------------
_W = dict[str, tuple[str, str]]
_PATTERN: _W = {
    "huff_q1": ("Huff 1분위 (초반 집중형)", "Huff 1st quartile (peak early)"),
    "huff_q2": ("Huff 2분위 (전반 집중형)", "Huff 2nd quartile (peak in the first half)"),
    "huff_q3": ("Huff 3분위 (후반 집중형)", "Huff 3rd quartile (peak late)"),
    "huff_q4": ("Huff 4분위 (막바지 집중형)", "Huff 4th quartile (peak at the end)"),
    "alternating_block": ("교호블록 (가운데 집중형)", "Alternating block (peak in the middle)"),
}
_LEVEL: _W = {
    "normal": ("정상", "Normal"),
    "attention": ("관심", "Attention (관심)"),
    "caution": ("주의", "Caution (주의)"),
    "alert": ("경계", "Alert (경계)"),
    "serious": ("심각", "Serious (심각)"),
    "warning": ("경보", "Warning (경보)"),
    "evacuate": ("대피", "Evacuate (대피)"),
    "clear": ("해제", "All clear (해제)"),
    "advisory": ("호우주의보", "Heavy-rain advisory (호우주의보)"),
}
_RAIN_LEVEL: _W = {
    "advisory": ("호우주의보", "Heavy-rain advisory (호우주의보)"),
    "warning": ("호우경보", "Heavy-rain warning (호우경보)"),
}
_PATH_STATE: _W = {
    "open": ("통행 가능", "open"),
    "cleared": ("대피 완료", "cleared"),
    "flooded": ("침수", "flooded"),
    "dry": ("물 빠짐", "dry again"),
}
_DEVICE_KIND: _W = {
    "gate": ("진출입로 차단시설", "gate"),
    "level_sensor": ("수위계", "water-level sensor"),
    "rain_gauge": ("강우계", "rain gauge"),
    "signboard": ("재해문자전광판", "signboard"),
    "cctv": ("CCTV", "CCTV camera"),
    "tilt_sensor": ("기울기 센서", "tilt sensor"),
    "crack_sensor": ("균열 센서", "crack sensor"),
    "extensometer": ("신축계", "extensometer"),
    "crosswalk": ("스마트 횡단보도", "smart crosswalk"),
    "loudspeaker": ("방송 스피커", "loudspeaker"),
}
_DEVICE_STATE: _W = {
    "open": ("열림", "open"),
    "closing": ("닫히는 중", "closing"),
    "closed": ("닫힘", "closed"),
    "opening": ("열리는 중", "opening"),
    "blank": ("꺼짐", "blank"),
    "showing": ("표출 중", "showing a message"),
    "clear": ("사람 없음", "nobody seen"),
    "someone": ("사람 있음", "someone seen"),
    "unknown": ("알 수 없음", "unknown"),
    "offline": ("연결 끊김", "offline"),
}
_GATE_STATE: _W = {
    "open": ("열림", "open"),
    "warning": ("경고 표출", "warning shown"),
    "closing": ("닫히는 중", "closing"),
    "closed": ("닫힘", "closed"),
    "opening": ("열리는 중", "opening"),
}
_EVENT_KIND: _W = {
    "path.flooded": ("산책로 침수", "path flooded"),
    "path.dry": ("산책로 물 빠짐", "path dry again"),
    "stage.threshold_up": ("수위 기준 도달", "stage reached an alert level"),
    "stage.threshold_down": ("수위 기준 아래로", "stage fell below an alert level"),
    "rain.advisory": ("호우주의보 기준 도달", "heavy-rain advisory reached"),
    "rain.warning": ("호우경보 기준 도달", "heavy-rain warning reached"),
    "crowd.evacuation_order": ("산책로 대피 명령", "order to leave the paths"),
    "crowd.gate_warning": ("진출입로 대피 안내", "people near a gate told to leave"),
    "gate.path_flooded": ("차단시설 앞 산책로 침수", "path at a gate flooded"),
    "gate.close_command": ("차단 명령", "close command"),
    "gate.open_command": ("개방 명령", "open command"),
    "gate.closed": ("차단 완료", "gate closed"),
    "gate.open": ("개방 완료", "gate open"),
    "gate.rejected": ("명령 거부", "command refused"),
    "signboard.display": ("전광판 표출", "signboard message"),
    "cctv.objects_inside": ("CCTV 사람 감지 변화", "camera: people seen changed"),
    "control.warn": ("제어: 경고 표출", "control: warning"),
    "control.close": ("제어: 차단", "control: close"),
    "control.open": ("제어: 개방", "control: open"),
    "control.clear_warning": ("제어: 경고 해제", "control: warning cleared"),
    "collapse_alarm": ("붕괴 경보 단계", "collapse alarm level"),
    "collapse_evacuation": ("붕괴 위험 대피", "evacuation for a collapse"),
    "collapse_failure": ("붕괴 발생", "collapse"),
    "sensor_suspect": ("센서 이상 의심", "sensor suspect"),
    "sensor_ok": ("센서 정상 복귀", "sensor back to normal"),
}
_CHECK: _W = {
    "closed_before_flooding": ("침수 전 차단", "closed before flooding"),
    "warning_before_closure": ("차단 전 경고", "warning before closing"),
    "people_on_path_at_closure": ("차단 시 산책로 인원", "people on the path at closing"),
    "people_on_path_at_flooding": ("침수 시 산책로 인원", "people on the path at flooding"),
    "closing_time": ("차단 소요시간", "closing time"),
    "false_closures": ("불필요한 차단", "needless closures"),
    "sensor_failure_detection": ("센서 고장 감지", "sensor failure detected"),
    "rejected_commands": ("거부된 명령", "refused commands"),
}
_SCENARIO_KIND: _W = {
    "design": ("설계 강우", "design storm"),
    "observed": ("관측 강우", "observed rain"),
    "none": ("강우 없음", "no rain"),
    "riverside": ("하천 산책로 이용자", "people on the riverside paths"),
    "school_commute": ("등굣길 학생", "children walking to school"),
    "trips": ("통행", "trips"),
    "residents": ("주민", "residents"),
    "flow": ("보행 흐름", "pedestrian flow"),
    "per_gauge": ("우량계별", "per gauge"),
    "uniform": ("균일", "uniform"),
}
_FAULT: _W = {
    "dropout": ("통신 두절", "dropout"),
    "stuck": ("값 고착", "stuck value"),
    "latency": ("지연", "latency"),
    "spikes": ("튀는 값", "spikes"),
    "drift": ("값 표류", "drift"),
    "gate_stuck_open": ("차단기 열림 고착", "gate stuck open"),
    "broker_outage": ("MQTT 브로커 장애", "MQTT broker outage"),
}
_BANK: _W = {"left": ("좌안", "left bank"), "right": ("우안", "right bank")}
_ACCESS_KIND: _W = {"ramp": ("경사로", "ramp"), "stairs": ("계단", "stairs")}

WORDS: Mapping[str, Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "pattern": MappingProxyType(_PATTERN),
        "level": MappingProxyType(_LEVEL),
        "rain_level": MappingProxyType(_RAIN_LEVEL),
        "path_state": MappingProxyType(_PATH_STATE),
        "device_kind": MappingProxyType(_DEVICE_KIND),
        "device_state": MappingProxyType(_DEVICE_STATE),
        "gate_state": MappingProxyType(_GATE_STATE),
        "event_kind": MappingProxyType(_EVENT_KIND),
        "check": MappingProxyType(_CHECK),
        "scenario_kind": MappingProxyType(_SCENARIO_KIND),
        "fault": MappingProxyType(_FAULT),
        "bank": MappingProxyType(_BANK),
        "access_kind": MappingProxyType(_ACCESS_KIND),
    }
)


def word(group: str, key: str, lang: str) -> str:
    """Plain words for ``key`` of the enumeration ``group`` in ``lang`` ("ko"/"en"). An unknown
    group or key gives the key made readable (``_`` and ``.`` -> space); never raises. The
    evacuation triggers are the run form's own words (``trigger_*`` in :mod:`twin.app.i18n`)."""
    if group == "trigger" and f"trigger_{key}" in TEXT:
        return t(f"trigger_{key}", "ko" if lang == "ko" else "en")
    pair = WORDS.get(group, {}).get(str(key))
    if pair is None:
        return readable(str(key))
    return pair[0] if lang == "ko" else pair[1]


def readable(key: str) -> str:
    """A machine key as words: ``closed_before_flooding`` -> ``closed before flooding``."""
    return re.sub(r"\s+", " ", re.sub(r"[_.]", " ", key)).strip()


def scenario_label(path: Path, lang: str) -> str:
    """The scenario's title in ``lang``: its YAML ``name: {ko:, en:}`` (or a plain string name);
    the file stem made readable when the file has none or cannot be read. Never raises."""
    import yaml

    fallback = readable(Path(path).stem).capitalize()
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - a label must never fail the page
        return fallback
    name = doc.get("name") if isinstance(doc, dict) else None
    if isinstance(name, str) and name.strip():
        return name.strip()
    if isinstance(name, dict):
        for key in (lang, "en" if lang == "ko" else "ko"):
            v = name.get(key)
            if isinstance(v, str) and v.strip():
                return v.strip()
    return fallback


# --- romanization ------------------------------------------------------------------------------
def has_hangul(text: str) -> bool:
    """True when ``text`` holds a Hangul syllable."""
    return bool(HANGUL.search(text))


def _romanize_raw(text: str) -> str:
    """Revised Romanization of ``text`` (lower case), by :mod:`korean_romanizer` (untyped: imported by name)."""
    import importlib

    romanizer = importlib.import_module("korean_romanizer.romanizer")
    return str(romanizer.Romanizer(text).romanize())


def romanize_place(word_ko: str) -> str:
    """One Korean place word in English: its known suffix translated and the rest romanized and
    capitalised (``신곡교`` -> ``Singok bridge``, ``평화로`` -> ``Pyeonghwa-ro``)."""
    if not has_hangul(word_ko):
        return word_ko
    if word_ko in PLACE_WORDS:
        return PLACE_WORDS[word_ko]
    side = re.fullmatch(r"(.+?)(대로|로|길)(\d+)(번)?길", word_ko)  # a side street: 경의로12번길
    if side:
        return f"{romanize_place(side.group(1) + side.group(2))} {side.group(3)}{'beon' if side.group(4) else ''}-gil"
    for suffix, en in PLACE_SUFFIXES:
        stem = word_ko.removesuffix(suffix)
        if stem != word_ko and stem and has_hangul(stem):
            return _capital(_romanize_raw(stem)) + en
    return _capital(_romanize_raw(word_ko))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def clean_dong_en(name_en: str) -> str:
    """A dong's English name made plain: ``Uijeongbu 1(il)-dong`` -> ``Uijeongbu 1-dong``,
    ``Howon1-dong`` -> ``Howon 1-dong``, ``Jageumdong`` -> ``Jageum-dong``."""
    s = re.sub(r"\s*\([a-z]+\)", "", name_en.strip())
    s = re.sub(r"([A-Za-z])(\d)", r"\1 \2", s)
    if s.endswith("dong") and not s.endswith("-dong"):
        s = s[: -len("dong")] + "-dong"
    return s


def _text(v: Any) -> str | None:
    """A non-empty string or None (NaN, None, blanks)."""
    if isinstance(v, str) and v.strip():
        return v.strip()
    return None


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


@dataclass(frozen=True)
class _Dictionary:
    """Known Korean names (facilities, dongs, streams, roads) and their English."""

    en: Mapping[str, str]

    def translate_word(self, token: str) -> str:
        """One space-free token in English: a known name, a glossary word, else romanized."""
        if not has_hangul(token):
            return token
        if token in self.en:
            return self.en[token]
        if token in GLOSSARY:
            return GLOSSARY[token]
        return romanize_place(token)

    def translate(self, name_ko: str, capital: bool = True) -> str:
        """A generated Korean name in English: ``의정부2동 다세대주택 3`` -> ``Multi-family house 3,
        Uijeongbu 2-dong``; ``가능초등학교 교사동`` -> ``Ganeung Elementary School school building``."""
        name_ko = name_ko.strip()
        if name_ko in self.en:
            return self.en[name_ko]
        tokens = name_ko.split()
        if len(tokens) >= 2 and tokens[0] in self.dongs and tokens[1] in GLOSSARY:
            rest = " ".join(self.translate_word(t) for t in tokens[1:])
            phrase = f"{rest}, {self.en[tokens[0]]}"
            return _capital(phrase) if capital else phrase
        return _capital(" ".join(self.translate_word(t) for t in tokens))

    @property
    def dongs(self) -> frozenset[str]:
        return frozenset(k for k, v in self.en.items() if v.endswith("-dong"))


@dataclass(frozen=True)
class Names:
    """Display names of a city's entities in Korean (``ko``) and English (``en``), by id."""

    ko: Mapping[str, str]
    en: Mapping[str, str]
    streams_en: Mapping[str, str]
    dictionary: _Dictionary
    buildings: Mapping[str, tuple[str | None, str | None, str | None]] = field(default_factory=dict)
    shorts: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, city: CityModel) -> Names:
        """Build the names of every entity of ``city`` (its layers, EPSG:5186 m)."""
        layers = set(city.layers)

        def layer(name: str):
            return city.layer(name) if name in layers else None

        streams = layer("streams")
        streams_en: dict[str, str] = {}
        if streams is not None and len(streams):
            for n, e in zip(streams["name"], streams.get("name_en", streams["name"]), strict=True):
                if _text(n):
                    streams_en[str(n)] = _text(e) or romanize_place(str(n))
        known = _known_names(city, layers, streams_en)
        dictionary = _Dictionary(MappingProxyType(known))
        ko: dict[str, str] = {}
        en: dict[str, str] = {}
        _add_facilities(layer("facilities"), dictionary, ko, en)
        _add_dongs(layer("dongs"), dictionary, ko, en)
        _add_reaches(streams, streams_en, ko, en)
        _add_slopes(layer("slopes"), dictionary, ko, en)
        aps = layer("access_points")
        roads = layer("roads")
        ap_parts = _access_parts(aps, roads, layer("dongs"), streams_en, dictionary)
        shorts: dict[str, tuple[str, str]] = {}
        for aid, a in ap_parts.items():
            ko[aid], en[aid] = a.ko + a.tail_ko, _capital(a.en + a.tail_en)
            shorts[aid] = a.short()
        _add_named_roads(roads, dictionary, ko, en)
        buildings = _building_rows(layer("buildings"))
        devices = layer("devices")
        if devices is not None and len(devices):
            _add_devices(devices, ap_parts, buildings, dictionary, ko, en, shorts)
        for bid, (name, _, _) in buildings.items():
            if name and bid not in ko:
                ko[bid], en[bid] = name, dictionary.translate(name)
        ko, en = _tidy(ko), _tidy(en)
        return cls(
            MappingProxyType(ko), MappingProxyType(en), MappingProxyType(streams_en), dictionary,
            MappingProxyType(buildings), MappingProxyType(shorts),
        )  # fmt: skip

    def entity(self, entity_id: str, lang: str) -> str:
        """The display name of any id seen in a run (device, access point, reach, stream name,
        building, slope, facility, dong) in ``lang``; an unknown id is returned as is."""
        key = str(entity_id)
        table = self.ko if lang == "ko" else self.en
        if key in table:
            return table[key]
        if key in self.streams_en:
            return self.stream(key, lang)
        if key in self.buildings:
            return self._building(key, lang)
        return key

    def short(self, entity_id: str, lang: str) -> str:
        """A short name for a chart axis: an access point and the gate, signboard, camera and gauges
        at it by the place alone (``중랑천 좌안 동일로``, ``Jungnangcheon left bank, Dongil-ro``);
        any other id as :meth:`entity`."""
        pair = self.shorts.get(str(entity_id))
        if pair is None:
            return self.entity(entity_id, lang)
        return pair[0] if lang == "ko" else pair[1]

    def gauge(self, device_id: str, lang: str) -> str:
        """A level sensor's or rain gauge's name: ko ``신곡교``, en ``Singok bridge (신곡교)``."""
        return self.entity(device_id, lang)

    def stream(self, name_ko: str, lang: str) -> str:
        """A stream by its Korean name: ko ``중랑천``, en ``Jungnangcheon``."""
        if lang == "ko":
            return name_ko
        return self.streams_en.get(name_ko) or (romanize_place(name_ko) if has_hangul(name_ko) else name_ko)

    def with_id(self, entity_id: str, lang: str) -> str:
        """``name (ID)`` for a tooltip; the id alone when it has no name."""
        name = self.entity(entity_id, lang)
        return str(entity_id) if name == str(entity_id) else f"{name} ({entity_id})"

    def _building(self, building_id: str, lang: str) -> str:
        """A building without a name of its own: its use and dong (``의정부1동 단독주택``)."""
        _, use, dong = self.buildings[building_id]
        use_ko = {"house": "단독주택", "multi_family": "다세대주택", "apartment": "아파트", "commercial": "상가",
                  "school": "학교 건물"}.get(use or "", "건물")  # fmt: skip
        if lang == "ko":
            return f"{dong} {use_ko}" if dong else use_ko
        use_en = {"school": "school building"}.get(use or "") or GLOSSARY.get(use_ko, "building")
        where = self.dictionary.en.get(dong or "") if dong else None
        return _capital(f"{use_en} in {where}" if where else use_en)


# --- builders ----------------------------------------------------------------------------------
def _tidy(table: dict[str, str]) -> dict[str, str]:
    """Names with single spaces (some dataset names hold double ones)."""
    return {k: re.sub(r"\s+", " ", v).strip() for k, v in table.items()}


def _pairs(df, key: str, a: str, b: str) -> Iterable[tuple[str, Any, Any]]:
    if df is None or not len(df) or key not in df.columns:
        return []
    cols = [df[c] if c in df.columns else [None] * len(df) for c in (a, b)]
    return zip(df[key].astype(str), cols[0], cols[1], strict=True)


def _known_names(city: CityModel, layers: set[str], streams_en: Mapping[str, str]) -> dict[str, str]:
    """Korean name -> English name of facilities, dongs and the city, and streams."""
    known: dict[str, str] = dict(streams_en)
    for name in ("boundary", "dongs", "facilities"):
        if name not in layers:
            continue
        df = city.layer(name)
        if "name" not in df.columns:
            continue
        en_col = df["name_en"] if "name_en" in df.columns else [None] * len(df)
        for n, e in zip(df["name"], en_col, strict=True):
            n, e = _text(n), _text(e)
            if n and n not in known:
                e = e or romanize_place(n)
                known[n] = clean_dong_en(e) if name == "dongs" else e
    return known


def _add_facilities(df, d: _Dictionary, ko: dict[str, str], en: dict[str, str]) -> None:
    for fid, n, e in _pairs(df, "facility_id", "name", "name_en"):
        n = _text(n)
        if n:
            ko[fid], en[fid] = n, _text(e) or d.translate(n)


def _add_dongs(df, d: _Dictionary, ko: dict[str, str], en: dict[str, str]) -> None:
    for code, n, e in _pairs(df, "dong_code", "name", "name_en"):
        n = _text(n)
        if n:
            ko[code], en[code] = n, clean_dong_en(_text(e) or d.translate(n))


def _add_reaches(df, streams_en: Mapping[str, str], ko: dict[str, str], en: dict[str, str]) -> None:
    """Reaches by stream and index: ``중랑천 1구간`` / ``Jungnangcheon reach 1``."""
    for rid, n, i in _pairs(df, "reach_id", "name", "reach_index"):
        n = _text(n)
        idx = _num(i)
        if idx is None:
            m = re.search(r"(\d+)$", rid)
            idx = float(m.group(1)) if m else None
        if not n:
            continue
        k = f"{int(idx)}" if idx is not None else ""
        ko[rid] = f"{n} {k}구간".replace("  ", " ") if k else n
        en[rid] = f"{streams_en.get(n) or romanize_place(n)} reach {k}".strip()


def _add_slopes(df, d: _Dictionary, ko: dict[str, str], en: dict[str, str]) -> None:
    for sid, n, dong in _pairs(df, "slope_id", "name", "dong"):
        n = _text(n)
        if not n:
            m = re.search(r"(\d+)$", sid)
            n = f"{_text(dong) or ''} 급경사지 {int(m.group(1)) if m else ''}".strip()
        ko[sid], en[sid] = n, d.translate(n)


def _add_named_roads(df, d: _Dictionary, ko: dict[str, str], en: dict[str, str]) -> None:
    for eid, n, _ in _pairs(df, "edge_id", "name", "kind"):
        n = _text(n)
        if n:
            ko[eid], en[eid] = n, d.translate(n)


def _building_rows(df) -> dict[str, tuple[str | None, str | None, str | None]]:
    """building id -> (name, use, dong), for names made on demand."""
    if df is None or not len(df) or "building_id" not in df.columns:
        return {}
    cols = [df[c] if c in df.columns else [None] * len(df) for c in ("name", "use", "dong")]
    return {
        str(b): (_text(n), _text(u), _text(g))
        for b, n, u, g in zip(df["building_id"], cols[0], cols[1], cols[2], strict=True)
    }


@dataclass(frozen=True)
class _Access:
    """An access point's name parts: ko and en names, its gate's en name, and the chainage
    suffix added after any name built on it when several points would share a name."""

    ko: str
    en: str
    gate_en: str
    short_ko: str = ""
    short_en: str = ""
    tail_ko: str = ""
    tail_en: str = ""

    def short(self) -> tuple[str, str]:
        """(ko, en) short place: ``중랑천 좌안 동일로`` / ``Jungnangcheon left bank, Dongil-ro``."""
        return self.short_ko + self.tail_ko, self.short_en + self.tail_en

    def named(self, ko_word: str, en_head: str | None) -> tuple[str, str]:
        """(ko, en) of a device at this point: ko ``<point> <word>``, en ``<Head> at the <point>``
        (the gate's own name when ``en_head`` is None)."""
        en = self.gate_en if en_head is None else f"{en_head} at the {self.en}"
        return f"{self.ko} {ko_word}{self.tail_ko}", _capital(en + self.tail_en)


def _access_parts(aps, roads, dongs, streams_en: Mapping[str, str], d: _Dictionary) -> dict[str, _Access]:
    """Access point id -> its name parts: stream, bank, kind and the nearest named street, else its
    dong (``중랑천 좌안 평화로 진출입로`` / ``Jungnangcheon left-bank ramp near Pyeonghwa-ro``).
    Names shared by several points get their chainage (km from the stream's upper end)."""
    if aps is None or not len(aps) or "access_id" not in aps.columns:
        return {}
    street = _nearest_streets(aps, roads)
    dong = _dong_of(aps, dongs)
    base: dict[str, _Access] = {}
    km: dict[str, float | None] = {}
    for r in aps.to_dict("records"):
        aid = str(r["access_id"])
        stream = _text(r.get("stream")) or ""
        stream_en = _text(r.get("stream_en")) or streams_en.get(stream) or romanize_place(stream)
        bank_ko, bank_en = BANK.get(str(r.get("bank")), ("", ""))
        kind_ko, kind_en = ACCESS_KIND.get(str(r.get("kind")), ("진출입로", "access"))
        c = _num(r.get("chainage_m"))
        km[aid] = None if c is None else c / 1000.0
        road, area = street.get(aid), dong.get(aid)
        place_ko = road or area
        near = f" near {d.translate(road)}" if road else (f" in {d.translate(area)}" if area else "")
        where_ko = " ".join(p for p in (stream, bank_ko, place_ko) if p)
        where_en = " ".join(p for p in (stream_en, bank_en, kind_en) if p)
        gate_en = " ".join(p for p in (stream_en, bank_en, "gate at the", kind_en) if p)
        place_en = d.translate(road) if road else (d.translate(area) if area else "")
        short_en = ", ".join(
            p for p in (" ".join(p for p in (stream_en, bank_en.replace("-", " ")) if p), place_en) if p
        )
        base[aid] = _Access(
            f"{where_ko} {kind_ko}".strip(), f"{where_en}{near}", f"{gate_en}{near}", where_ko, short_en
        )
    counts = Counter((a.ko, a.en) for a in base.values())
    out = {}
    for aid, a in base.items():
        k = km[aid]
        if counts[(a.ko, a.en)] > 1 and k is not None:
            a = replace(a, tail_ko=f" ({k:.1f} km 지점)", tail_en=f" (km {k:.1f})")
        out[aid] = a
    return out


def _dong_of(aps, dongs) -> dict[str, str]:
    """Access point id -> the Korean name of the dong it lies in."""
    if dongs is None or not len(dongs) or "name" not in dongs.columns:
        return {}
    out = {}
    for aid, g in zip(aps["access_id"].astype(str), aps.geometry.values, strict=True):
        if g is None or g.is_empty:
            continue
        hit = dongs[dongs.geometry.contains(g)]
        if len(hit) and _text(hit["name"].iloc[0]):
            out[aid] = str(hit["name"].iloc[0])
    return out


def _nearest_streets(aps, roads) -> dict[str, str]:
    """Access point id -> the name of the nearest named road of kind ``road`` within ROAD_NEAR_M."""
    if roads is None or not len(roads) or "name" not in roads.columns:
        return {}
    named = roads[roads["name"].map(lambda v: _text(v) is not None)]
    if "kind" in named.columns:
        named = named[named["kind"] == "road"]
    if not len(named):
        return {}
    import shapely

    geoms = named.geometry.values
    tree = shapely.STRtree(geoms)
    names = [str(n) for n in named["name"]]
    out = {}
    for aid, g in zip(aps["access_id"].astype(str), aps.geometry.values, strict=True):
        if g is None or g.is_empty:
            continue
        hit = tree.query_nearest(g, max_distance=ROAD_NEAR_M)
        if len(hit):
            out[aid] = names[int(min(hit))]
    return out


def _strip_kind(name: str, kind: str) -> tuple[str, str]:
    """(the place a generated device name names, its trailing number or "")."""
    m = re.match(r"^(.*?)\s*(\d+)?$", name.strip())
    body, num = (m.group(1), m.group(2) or "") if m else (name, "")
    for suffix in DEVICE_SUFFIX_KO.get(kind, ()):
        if body.endswith(suffix):
            return body[: -len(suffix)].strip(), num
    return body.strip(), num


def _lower_common(phrase: str) -> str:
    """A place phrase mid-sentence: a leading common word (``Steep slope 1``) in lower case."""
    first = phrase.split(" ", 1)[0]
    return phrase[:1].lower() + phrase[1:] if first.lower() in {g.split()[0] for g in GLOSSARY.values()} else phrase


def _add_devices(
    devices,
    ap_parts: Mapping[str, _Access],
    buildings,
    d: _Dictionary,
    ko: dict[str, str],
    en: dict[str, str],
    shorts: dict[str, tuple[str, str]],
) -> None:
    """Devices: WAMIS gauges by their site, gate devices by their access point, the others by the
    place their name (or host) names."""
    rows = devices.to_dict("records")
    gauge_of_gate = {}
    for r in rows:
        if r.get("kind") == "gate" and _text(r.get("access_id")):
            for col in ("rain_gauge_id", "level_sensor_id"):
                if _text(r.get(col)):
                    gauge_of_gate[str(r[col])] = str(r["access_id"])
    shared = Counter(_text(r.get("name")) for r in rows)
    for r in rows:
        did, kind, name = str(r["device_id"]), str(r.get("kind")), _text(r.get("name")) or ""
        site = re.search(r"\(([^()]+)\)\s*$", name)
        ap = _text(r.get("access_id")) or _text(r.get("watches")) or gauge_of_gate.get(did) or ""
        if kind in ("level_sensor", "rain_gauge") and site and has_hangul(site.group(1)):
            s = site.group(1).strip()
            ko[did], en[did] = s, f"{romanize_place(s)} ({s})"
        elif ap in ap_parts and kind in DEVICE_AT:
            w_ko, w_en = DEVICE_AT[kind]
            ko[did], en[did] = ap_parts[ap].named(w_ko, None if kind == "gate" else w_en)
            shorts[did] = ap_parts[ap].short()
        else:
            ko[did], en[did] = _other_device(r, name, shared[name] > 1, buildings, ko, en, d)


def _other_device(r, name: str, shared: bool, buildings, ko, en, d: _Dictionary) -> tuple[str, str]:
    """A device named after a facility, school, zone, building or slope: ko its own name (with
    the number of its id when several share it), en ``<kind> at <place>``."""
    did, kind = str(r["device_id"]), str(r.get("kind"))
    kind_en = word("device_kind", kind, "en")
    num = ""
    if shared:
        m = re.search(r"-(\d+)$", did)
        num = m.group(1).lstrip("0") or "0" if m else ""
    if not name:
        place_id = next((str(r[c]) for c in ("host_id", "zone_id", "school_id") if _text(r.get(c))), None)
        if place_id and place_id in ko:
            return f"{ko[place_id]} {word('device_kind', kind, 'ko')}", _capital(f"{kind_en} at {en[place_id]}")
        return word("device_kind", kind, "ko"), _capital(kind_en)
    name_ko = f"{name} {num}" if num else name
    place_ko, n = _strip_kind(name, kind)
    n = n or num
    place_en = None
    for c in ("zone_id", "school_id", "host_id"):
        pid = _text(r.get(c))
        if pid and pid in en:
            place_en = en[pid]
            break
        if pid and pid in buildings and buildings[pid][0]:
            place_en = d.translate(str(buildings[pid][0]), capital=False)
            break
    if place_en is None:
        place_en = d.translate(place_ko, capital=False) if place_ko else ""
    place_en = _lower_common(place_en)
    head = f"{kind_en} {n}".strip()
    return name_ko, _capital(f"{head} at {place_en}" if place_en else head)
