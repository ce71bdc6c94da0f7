"""People see names, not IDs: entity names in both languages, plain words for enumerations,
scenario titles, the events table and the gate verdict table (twin.app.names, tables, gates_view)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
import yaml

from twin.app.gates_view import check_header, failed_checks, signboard_table, verdict_table
from twin.app.names import WORDS, Names, has_hangul, readable, romanize_place, scenario_label, word
from twin.app.tables import events_table
from twin.control.verdict import CHECKS

REPO = Path(__file__).resolve().parents[1]
KST = timezone(timedelta(hours=9))


@pytest.fixture(scope="module")
def names(city) -> Names:
    return Names.of(city)


def _all_ids(city) -> list[str]:
    ids: list[str] = []
    for layer, col in (("devices", "device_id"), ("access_points", "access_id"), ("streams", "reach_id"),
                       ("facilities", "facility_id"), ("slopes", "slope_id"), ("dongs", "dong_code")):  # fmt: skip
        ids += [str(i) for i in city.layer(layer)[col]]
    return ids


def _hangul_alone(text: str) -> bool:
    """Hangul outside brackets: English text that left a Korean word untranslated."""
    return has_hangul(re.sub(r"\([^()]*\)", "", text))


def test_every_entity_of_the_city_has_a_name_without_its_id(city, names):
    ids = _all_ids(city)
    assert len(ids) > 500
    for i in ids:
        ko, en = names.entity(i, "ko"), names.entity(i, "en")
        assert i not in ko and i not in en, (i, ko, en)
        assert has_hangul(ko), (i, ko)
        assert not _hangul_alone(en), (i, en)
        assert names.with_id(i, "en") == f"{en} ({i})"


def test_gauges_by_their_site(names):
    assert names.gauge("LS-1018665", "ko") == "신곡교"
    assert names.gauge("LS-1018665", "en") == "Singok bridge (신곡교)"
    assert names.gauge("LS-1018666", "en").startswith("Geumsin bridge")
    assert names.gauge("RG-10184125", "en") == "Dobong Depot (도봉차량기지)"
    assert names.gauge("RG-10184010", "en").startswith("Jungang Elementary School")


def test_gates_and_their_devices_by_access_point_and_street(names):
    assert names.entity("G02", "ko") == "중랑천 좌안 동일로 진출입로 차단시설"
    en = names.entity("G02", "en")
    assert en == "Jungnangcheon left-bank gate at the ramp near Dongil-ro"
    # several access points share stream, bank and street: their chainage tells them apart
    assert names.entity("G01", "en").endswith("near Pyeonghwa-ro (km 2.1)")
    street = en.split(" near ")[1].split(" (")[0]
    # its signboard, camera, level sensor and rain gauge name the same access point and street
    for dev in ("SB-G02", "CAM-G02", "LS-G02", "RG-G02"):
        assert street in names.entity(dev, "en"), dev
    assert names.entity("SB-G02", "en").startswith("Signboard at the Jungnangcheon left-bank")
    assert names.entity("AP-JN-L07", "ko") in names.entity("G02", "ko").replace(" 차단시설", "")


def test_streams_reaches_and_other_entities(names):
    assert names.stream("중랑천", "ko") == "중랑천"
    assert names.stream("중랑천", "en") == "Jungnangcheon"
    assert names.entity("민락천", "en") == "Minrakcheon"
    assert names.entity("JN-01", "ko") == "중랑천 1구간"
    assert names.entity("JN-01", "en") == "Jungnangcheon reach 1"
    assert names.entity("SLP-01", "en") == "Steep slope 1, Heungseon-dong"
    assert names.entity("F-CITYHALL", "en") == "Uijeongbu City Hall"
    assert names.entity("SB-CITYHALL", "en") == "Signboard at Uijeongbu City Hall"
    assert names.entity("EXT-SLP-02", "en") == "Extensometer at steep slope 2, Heungseon-dong"
    assert names.entity("XW-B000004646-1", "en") == "Smart crosswalk 1 at Ganeung Elementary School"
    assert names.entity("B00001", "ko") == "의정부중앙초등학교 교사동"
    assert names.entity("B13960", "ko") == "신곡2동 단독주택"  # an unnamed building: its use and dong
    assert names.entity("B13960", "en") == "House in Singok 2-dong"


def test_unknown_ids_come_back_unchanged(names):
    for i in ("NOPE-1", "", "中文"):
        assert names.entity(i, "en") == i and names.with_id(i, "ko") == i


def test_romanized_places():
    assert romanize_place("신곡교") == "Singok bridge"
    assert romanize_place("평화로") == "Pyeonghwa-ro"
    assert romanize_place("한국대로") == "Hanguk-daero"
    assert romanize_place("가능초등학교") == "Ganeung Elementary School"
    assert romanize_place("경의로12번길") == "Gyeongui-ro 12beon-gil"


def test_words_for_enumerations():
    assert word("pattern", "huff_q3", "ko") == "Huff 3분위 (후반 집중형)"
    assert word("pattern", "huff_q3", "en") == "Huff 3rd quartile (peak late)"
    assert word("level", "caution", "ko") == "주의"
    assert word("level", "serious", "en") == "Serious (심각)"
    assert word("trigger", "path_flooded", "en") == "When the first path floods"  # the form's words, one source
    assert word("nope", "some_key.x", "en") == "some key x" == readable("some_key.x")
    for group, table in WORDS.items():
        for key, (ko, en) in table.items():
            assert ko and en and "_" not in en and not _hangul_alone(en), (group, key)
            assert word(group, key, "ko") == ko and word(group, key, "en") == en


def _logged_kinds() -> tuple[set[str], set[str]]:
    """The literal event kinds the models log, and the f-string templates (twin/, sim_devices/)."""
    literal, templates = set(), set()
    for folder in ("twin", "sim_devices"):
        for p in (REPO / folder).rglob("*.py"):
            text = p.read_text(encoding="utf-8")
            for m in re.finditer(r"\blog\(\s*(f?)\"([a-z_.{}]+)\"", text):
                (templates if m.group(1) else literal).add(m.group(2))
            if "EVENT = " in text:
                literal |= set(re.findall(r"^EVENT = \"([a-z_.]+)\"", text, re.M))
    return literal, templates


def test_every_event_kind_the_models_log_has_words():
    literal, templates = _logged_kinds()
    # the f-string kinds and what they expand to (a new template fails here until it gets words)
    expansions = {
        "rain.{lv}": ["rain.advisory", "rain.warning"],
        "stage.threshold_{direction}": ["stage.threshold_up", "stage.threshold_down"],
        "gate.{reached}": ["gate.closed", "gate.open"],
        "gate.{a.kind}_command": ["gate.close_command", "gate.open_command"],
        "gate.{what}_command": ["gate.close_command", "gate.open_command"],
        "control.{a.kind}": ["control.warn", "control.close", "control.open", "control.clear_warning"],
    }
    assert templates == set(expansions), templates
    kinds = literal | {k for ks in expansions.values() for k in ks} | {"sensor_suspect", "sensor_ok"}
    assert {"path.flooded", "signboard.display", "cctv.objects_inside", "collapse_alarm"} <= kinds
    for k in kinds:
        assert k in WORDS["event_kind"], k
        for lang in ("ko", "en"):
            w = word("event_kind", k, lang)
            assert "_" not in w and "." not in w, (k, w)


def test_every_shipped_scenario_is_labelled_by_its_name_field():
    files = sorted((REPO / "scenarios").glob("*.yaml")) + sorted((REPO / "scenarios" / "gates").glob("*.yaml"))
    assert len(files) >= 10
    for p in files:
        name = yaml.safe_load(p.read_text(encoding="utf-8"))["name"]
        for lang in ("ko", "en"):
            want = name[lang] if isinstance(name, dict) else name
            assert scenario_label(p, lang) == want.strip(), p
    assert scenario_label(REPO / "scenarios" / "flash_flood_jungnangcheon.yaml", "en") == (
        "Jungnangcheon flash flood (90 mm in 3 h)"
    )


def test_scenario_label_falls_back_to_the_file_stem(tmp_path):
    bad = tmp_path / "my_storm.yaml"
    bad.write_text("a: [unclosed", encoding="utf-8")
    assert scenario_label(bad, "en") == "My storm"
    assert scenario_label(tmp_path / "missing_file.yaml", "ko") == "Missing file"
    plain = tmp_path / "p.yaml"
    plain.write_text("name: Plain title\n", encoding="utf-8")
    assert scenario_label(plain, "ko") == "Plain title"


def _events() -> pd.DataFrame:
    rows = [
        (1980.0, "stage.threshold_up", "LS-1018665", "관심 (attention) 2.5 m reached: stage 2.51 m",
         {"level": "attention", "threshold_m": 2.5, "stage_m": 2.51}),
        (2700.0, "path.flooded", "AP-JN-L07", "riverside path under water", {"stage_m": 2.6, "path_height_m": 2.5}),
        (2710.0, "crowd.evacuation_order", "중랑천", "clear the 중랑천 riverside paths", {"people_on_paths": 3}),
        (2800.0, "gate.closed", "G02", "gate closed at AP-JN-L07", {"access_id": "AP-JN-L07", "people_on_path": 0}),
        (2900.0, "signboard.display", "SB-G02", "shown: a / b", {"lines": ["산책로 통제 예정", "즉시 올라오세요"]}),
        (3000.0, "control.warn", "G02", "stage at AP-JN-L07 rising fast", {}),
        (90000.0, "rain.warning", "RG-10184010", "호우경보", {"window_s": 10800, "threshold_mm": 90.0}),
    ]  # fmt: skip
    return pd.DataFrame(
        [(t, k, e, m, json.dumps(d, ensure_ascii=False)) for t, k, e, m, d in rows],
        columns=["time_s", "kind", "entity_id", "message", "data"],
    )


ID_PATTERN = re.compile(r"\b(?:[A-Z]{1,5}-[A-Z0-9-]+|G\d\d)\b")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_events_table_shows_minutes_clock_words_and_names(names, lang):
    ev = _events()
    tab = events_table(ev, names, lang, datetime(2026, 7, 15, 18, 0, tzinfo=KST))
    assert len(tab) == len(ev) and len(tab.columns) == 5
    minute, clock, what, where, details = (tab[c].tolist() for c in tab.columns)
    assert minute[:2] == [33.0, 45.0] and clock[:2] == ["18:33", "18:45"] and clock[-1] == "19:00+1"
    assert what[0] == ("수위 기준 도달" if lang == "ko" else "Stage reached an alert level")
    assert where[0] == names.gauge("LS-1018665", lang)
    assert where[2] == names.stream("중랑천", lang)
    for col in tab.columns[:4]:
        for v in tab[col].astype(str):
            assert not ID_PATTERN.search(v) and "_" not in v, (col, v)
    for v in details:  # the ids in the models' messages are replaced by names too
        assert not ID_PATTERN.search(v), v
    assert details[0] == (
        "관심 2.5 m 도달: 수위 2.51 m" if lang == "ko" else "Attention (관심) 2.5 m reached: stage 2.51 m"
    )
    assert details[4] == "산책로 통제 예정 / 즉시 올라오세요"
    if lang == "en":
        assert not any(_hangul_alone(v) for v in where)


def test_events_table_without_a_start_has_no_clock(names):
    tab = events_table(_events(), names, "en", None)
    assert list(tab.columns) == ["Minute", "What", "Where", "Details"]
    assert events_table(_events().iloc[:0], names, "ko", None).empty


def _verdict() -> dict:
    ok = {"passed": True, "value": None, "detail": ""}
    gate = {c: dict(ok) for c in CHECKS}
    gate["closed_before_flooding"] = {"passed": True, "value": 612.0, "detail": ""}
    gate["closing_time"] = {"passed": False, "value": 95.0, "detail": ""}
    gate["people_on_path_at_flooding"] = {"passed": True, "value": 0, "detail": ""}
    return {"passed": False, "failed": ["G02.closing_time"], "gates": {"G02": gate}}


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_verdict_table_headers_are_words_with_units(names, lang):
    tab = verdict_table(_verdict(), names, lang)
    assert len(tab) == 1 and len(tab.columns) == 1 + len(CHECKS)
    for h in tab.columns:
        assert h not in CHECKS and "_" not in h
    row = tab.iloc[0]
    assert row.iloc[0] == names.entity("G02", lang)
    cbf = check_header("closed_before_flooding", lang)
    assert cbf == ("침수 전 차단 (분 전)" if lang == "ko" else "Closed before flooding (min ahead)")
    assert row[cbf] == ("✓ 10.2분 전" if lang == "ko" else "✓ 10.2 min ahead")
    assert row[check_header("closing_time", lang)] == ("✗ 95초" if lang == "ko" else "✗ 95 s")
    assert row[check_header("people_on_path_at_flooding", lang)] == ("✓ 0명" if lang == "ko" else "✓ 0 people")
    assert row[check_header("rejected_commands", lang)] == "✓"
    text = failed_checks(["G02.closing_time"], names, lang)
    assert text == f"{names.entity('G02', lang)}: {word('check', 'closing_time', lang)}"


def test_signboard_table_names_the_board(names):
    texts = pd.DataFrame({"minute": [40.0, 90.0], "signboard": ["SB-G02"] * 2, "gate": ["G02"] * 2,
                          "text": ["산책로 통제 예정 / 즉시 올라오세요", "(blank)"]})  # fmt: skip
    tab = signboard_table(texts, names, "en")
    assert list(tab.columns) == ["Minute", "Signboard", "Text"]
    assert tab["Signboard"].iloc[0] == names.entity("SB-G02", "en") and tab["Text"].iloc[1] == "blank"


def test_short_names_for_chart_axes(names):
    assert names.short("G02", "ko") == "중랑천 좌안 동일로"
    assert names.short("G02", "en") == "Jungnangcheon left bank, Dongil-ro"
    assert names.short("SB-G02", "en") == names.short("G02", "en")
    assert names.short("G01", "en").endswith("(km 2.1)")  # shared places keep their chainage
    assert names.short("LS-1018665", "en") == names.gauge("LS-1018665", "en")


def test_timeline_chart_uses_names_on_the_axis_and_ids_in_tooltips(names):
    from twin.app.gates_view import named

    tl = pd.DataFrame({"gate": ["G02", "G02"], "state": ["open", "closed"], "start_min": [0.0, 50.0],
                       "end_min": [50.0, 180.0]})  # fmt: skip
    out = named(tl, names, "en")
    assert list(out.gate_name) == ["Jungnangcheon left bank, Dongil-ro"] * 2
    assert list(out.state_word) == ["open", "closed"]
    assert out.gate_tip.iloc[0] == "Jungnangcheon left-bank gate at the ramp near Dongil-ro (G02)"
    assert list(named(tl, names, "ko").state_word) == ["열림", "닫힘"]


def test_names_have_single_spaces(city, names):
    assert names.entity("CAM-CPZ-053-1", "en") == "CCTV camera 1 at Seo Elementary School Children's Protection Zone"
    for i in _all_ids(city):
        for lang in ("ko", "en"):
            n = names.entity(i, lang)
            assert "  " not in n and n == n.strip(), (i, n)
