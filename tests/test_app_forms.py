"""The planner's forms: the proposal form built from lists, a run folder's values put back into the
run form, errors one per line with no progress bar above them, downloads named by the scenario,
and the kiosk configuration (no telemetry, no Deploy button, a theme)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from app_pages import as_shown, open_page  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from twin.app.i18n import t  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")


class _Recorder:
    """The part of streamlit the error box uses: records what it was asked to show."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, body: str) -> None:
        self.errors.append(body)


def test_the_kiosk_configuration_sends_nothing_and_hides_the_deploy_button():
    cfg = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["server"]["address"] == "127.0.0.1"
    assert cfg["client"]["toolbarMode"] == "minimal"  # no Deploy button, no developer menu
    assert cfg["server"]["fileWatcherType"] == "none"  # a git pull during a workshop swaps no module under a session
    assert cfg["theme"]["primaryColor"].startswith("#") and cfg["theme"]["base"] == "light"


def test_each_problem_of_a_refused_input_is_its_own_line_shown_as_typed():
    from twin.app.widgets import show_error
    from twin.errors import ScenarioError

    st = _Recorder()
    exc = ScenarioError("a.yaml: rainfall.total_mm: got 'abc': expected a number\na.yaml: seed: got -1: expected >= 0")
    show_error(st, "en", exc)
    (body,) = st.errors
    items = [x for x in body.splitlines() if x.startswith("- ")]
    assert len(items) == 2  # two problems, two lines: markdown would have run them together
    assert r"rainfall.total\_mm" in items[0]  # _ escaped, not italics
    assert as_shown(items[0]).startswith("- a.yaml: rainfall.total_mm: got 'abc'")
    assert body.startswith(f"**{t('invalid', 'en')}**")


def test_a_download_names_the_scenario_and_the_run():
    from types import SimpleNamespace

    from twin.app.pages import download_stem

    run = SimpleNamespace(
        summary={"scenario": {"name": {"ko": "중랑천 돌발홍수 (3시간 90 mm)", "en": "Jungnangcheon flash flood"}}},
        folder=Path("/tmp/runs/ab12"),
    )
    assert download_stem(run, "ko") == "중랑천-돌발홍수-3시간-90-mm_ab12"
    assert download_stem(run, "en") == "Jungnangcheon-flash-flood_ab12"
    odd = SimpleNamespace(summary={"scenario": {"name": "../../etc/passwd"}}, folder=Path("/x/r 1"))
    assert "/" not in download_stem(odd, "en") and download_stem(odd, "en").startswith("etc-passwd")
    bare = SimpleNamespace(summary={}, folder=Path("/x/r"))
    assert download_stem(bare, "ko") == "uijeongbu-twin_r"


def test_an_opened_run_folder_puts_its_values_into_the_form(walkers_run, tmp_path):
    from twin.app.pages import folder_form_values

    values = folder_form_values(walkers_run.folder)
    stem = "flash_flood_evening_walkers"
    assert values["scenario"] == f"{stem}.yaml"
    assert values[f"people:{stem}"] == walkers_run.summary["crowd"]["people"]
    assert values[f"pattern:{stem}"].startswith("huff_q")
    assert folder_form_values(tmp_path) == {}  # not a run folder: the form is left alone


def test_the_run_form_shows_an_opened_folder_s_scenario_and_values(walkers_run):
    at = open_page(AppTest.from_file(APP, default_timeout=300).run(), "run")
    at.selectbox(key="scenario:ko").set_value("dry_baseline.yaml").run()
    at.text_input(key="folder").input(str(walkers_run.folder))
    at.button(key="open_folder").click().run()
    assert not at.exception and not at.error
    assert at.selectbox(key="scenario:ko").value == "flash_flood_evening_walkers.yaml"
    people = at.number_input(key="people:flash_flood_evening_walkers").value
    assert people == walkers_run.summary["crowd"]["people"]


def test_a_bad_override_shows_its_error_without_a_progress_bar_above_it():
    at = open_page(AppTest.from_file(APP, default_timeout=300).run(), "run")
    at.text_area(key="overrides:flash_flood_jungnangcheon").input("rainfall.total_mm=abc\nseed=-3")
    at.button(key="run").click().run()
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.count("\n- ") >= 1
    assert not at.get("progress")  # no "Running…" left above the error


def test_the_proposal_form_says_what_changes_and_the_table_says_better_or_worse():
    at = open_page(AppTest.from_file(APP, default_timeout=600).run(), "compare")
    assert not at.exception
    at.button(key="cmp_run").click().run()  # the example: leave at 관심, with 신곡교's 관심 at 1.5 m
    assert not at.exception and not at.error
    said = "\n".join(m.value for m in at.markdown)
    assert "신곡교" in said and "1.5 m" in said and "→" in said
    table = at.dataframe[0].value
    verdicts = set(table[table.columns[-1]])
    assert verdicts & {"나아짐", "나빠짐", "같음"}, verdicts
    assert len(at.get("deck_gl_json_chart")) == 2


def test_a_gate_policy_change_is_written_validated_and_run(tmp_path):
    import yaml

    from twin.app.compare_view import _gate_levels

    raw = yaml.safe_load((REPO / "scenarios" / "policies" / "reference_gates.yaml").read_text(encoding="utf-8"))
    assert _gate_levels(raw, "G06") == {"warn_level_m": 1.0, "close_level_m": 1.5, "reopen_level_m": 1.0,
                                        "override_level_m": 1.8}  # fmt: skip
    assert _gate_levels(raw, "G01") == {"warn_level_m": 1.5, "close_level_m": 2.0, "reopen_level_m": 1.5,
                                        "override_level_m": 2.3}  # the policy's defaults  # fmt: skip
    at = open_page(AppTest.from_file(APP, default_timeout=300).run(), "compare")
    at.selectbox(key="cmp_scenario:ko").set_value("gates/flash_flood_gates.yaml").run()
    at.multiselect(key="cmp_changes:ko").set_value(["gate_policy"]).run()
    assert not at.exception
    stem = "cmp:flash_flood_gates"
    gate = at.selectbox(key=f"gate:{stem}:ko").value
    before = _gate_levels(raw, gate)["close_level_m"]
    at.number_input(key=f"close_level_m:{stem}:{gate}").set_value(before - 0.3).run()
    assert not at.exception and not at.error
    said = "\n".join(m.value for m in at.markdown)
    assert f"{before:g} → {before - 0.3:g}" in said and gate not in said  # the gate by its name


def test_the_proposal_form_words_its_lists_in_both_languages():
    at = open_page(AppTest.from_file(APP, default_timeout=300).run(), "compare")
    at.sidebar.radio(key="lang").set_value("en").run()
    assert not at.exception
    changes = at.multiselect(key="cmp_changes:en")
    assert set(changes.value) == {"trigger", "thresholds"}
    assert "When people are told to leave" in changes.options


def test_the_run_form_left_as_the_scenario_says_runs_the_scenario_itself():
    """No override when nothing was changed: the run page's run is the compare page's baseline
    (one run in the store, not two)."""
    at = open_page(AppTest.from_file(APP, default_timeout=300).run(), "run")
    at.selectbox(key="scenario:ko").set_value("flash_flood_evening_walkers.yaml").run()
    at.button(key="run").click().run()
    assert not at.exception and not at.error
    path, sets = at.session_state["run_key"]
    assert Path(path).name == "flash_flood_evening_walkers.yaml" and sets == ()
    at.number_input(key="people:flash_flood_evening_walkers").set_value(800).run()
    at.button(key="run").click().run()
    assert not at.exception
    assert "populations.0.count=800" in at.session_state["run_key"][1]


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_compare_page_takes_a_scenario_whose_people_are_never_told_to_leave(lang):
    at = open_page(AppTest.from_file(APP, default_timeout=300).run(), "compare")
    at.sidebar.radio(key="lang").set_value(lang).run()
    at.selectbox(key=f"cmp_scenario:{lang}").set_value("school_commute_ganeung.yaml").run()
    assert not at.exception
    radio = at.radio(key=f"trigger:cmp:school_commute_ganeung:{lang}")
    assert "none" in radio.options or t("trigger_none", lang) in radio.options
    assert t("trigger_none", lang) in "\n".join(c.value for c in at.caption)  # "now: nobody is told to leave"


def test_a_run_folder_with_values_beyond_the_form_opens_and_keeps_the_form_whole(walkers_run, tmp_path):
    """2,950 mm (beyond the old form's 500 mm, within the schema) goes into the form; 100,001 people
    (beyond the schema) leaves the folder's scenario unreadable, and the form keeps the scenario's."""
    import re
    import shutil

    stem = "flash_flood_evening_walkers"
    people = walkers_run.summary["crowd"]["people"]
    for case, edit in (
        ("deep", lambda x: re.sub(r"total_mm: [0-9.]+", "total_mm: 2950.0", x, count=1)),
        ("crowded", lambda x: x.replace(f"count: {people}", "count: 100001", 1)),
    ):
        folder = tmp_path / case
        shutil.copytree(walkers_run.folder, folder)
        resolved = folder / "scenario.resolved.yaml"
        resolved.write_text(edit(resolved.read_text(encoding="utf-8")), encoding="utf-8")
        at = open_page(AppTest.from_file(APP, default_timeout=300).run(), "run")
        at.text_input(key="folder").input(str(folder))
        at.button(key="open_folder").click().run()
        assert not at.exception and not at.error, case
        assert at.selectbox(key="scenario:ko").value == f"{stem}.yaml"
        total = at.number_input(key=f"total_mm:{stem}").value
        assert total == (2950.0 if case == "deep" else 90.0), case
        assert at.number_input(key=f"people:{stem}").value == people, case
        assert any("입력란" in i.value for i in at.info)  # what the form does and does not take from the folder


def test_every_gate_can_be_proposed_and_levels_out_of_order_are_said_in_words_and_not_run():
    from twin import load_city

    at = open_page(AppTest.from_file(APP, default_timeout=300).run(), "compare")
    at.selectbox(key="cmp_scenario:ko").set_value("gates/flash_flood_gates.yaml").run()
    at.multiselect(key="cmp_changes:ko").set_value(["gate_policy"]).run()
    stem = "cmp:flash_flood_gates"
    gates = at.selectbox(key=f"gate:{stem}:ko").options
    assert len(gates) == len(load_city().devices_of_kind("gate")) == 10  # G01-G05 follow the defaults
    at.selectbox(key=f"gate:{stem}:ko").set_value("G01").run()
    at.number_input(key=f"reopen_level_m:{stem}:G01").set_value(2.5).run()  # above its close level (2.0 m)
    assert not at.exception and at.error
    message = at.error[0].value
    assert "G01" not in message and "/tmp" not in message and "_level_m" not in message and "2.5 m" in message
    at.button(key="cmp_run").click().run()
    assert "cmp_key" not in at.session_state  # nothing runs while the form says a problem


def test_alert_levels_out_of_order_are_said_in_words_and_not_run():
    at = open_page(AppTest.from_file(APP, default_timeout=300).run(), "run")
    s = "flash_flood_jungnangcheon"
    at.number_input(key=f"th_attention:{s}:LS-1018665").set_value(7.0).run()  # above 주의, 경계 and 심각
    at.button(key="run").click().run()
    assert not at.exception and at.error
    assert all("LS-1018665" not in e.value and ".yaml" not in e.value for e in at.error)
    assert any("신곡교" in e.value and "관심 7 m" in e.value for e in at.error)
    assert "run_key" not in at.session_state


def test_people_on_the_paths_at_an_order_never_given_is_no_order_and_no_verdict():
    from twin.app.kpis import KeyGauge, compare_rows

    key = KeyGauge("LS-1018665", "신곡교", "중랑천", "Jungnangcheon", "Singok bridge (신곡교)")
    order = {"중랑천": {"people_on_paths": 441, "time_s": 60}}
    ordered = {"crowd": {"evacuation_orders": order, "exposed_people": 111}}
    never = {"crowd": {"evacuation_orders": {}, "exposed_people": 310}}
    rows = compare_rows(ordered, never, "en", key).set_index("KPI")
    on_path = rows.loc[t("people_on_path", "en")]
    assert on_path[t("proposal", "en")] == t("no_order", "en") and on_path[t("verdict", "en")] != t("better", "en")
    assert rows.loc[t("people_exposed", "en"), t("verdict", "en")] == t("worse", "en")  # 111 -> 310
