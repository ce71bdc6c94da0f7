"""The app serves only what it should: it listens on loopback unless told otherwise, a path typed
in the browser never makes the server read a file, and the run folder names the dataset used."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from app_pages import open_page  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from twin.errors import TwinError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
SECRET = "SECRET-91bd"


@pytest.fixture
def secret(tmp_path) -> Path:
    """A server file a browser must never see: it is valid enough to be read as a CSV or YAML."""
    p = tmp_path / "environ"
    p.write_text(f"{SECRET} hunter2\n", encoding="utf-8")
    return p


# --- 1. loopback by default ------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> set[str]:
    """Local addresses listening on ``port`` (from /proc/net/tcp and tcp6, hex as the kernel writes)."""
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, hexport = local.split(":")
                if state == "0A" and int(hexport, 16) == port:
                    out.add(addr)
    return out


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}


def _serve(cwd: Path, *extra: str, env: dict | None = None) -> set[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            APP,
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            *extra,
        ],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start")
        return _listening(port)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("where", ["repo", "elsewhere"])
def test_the_app_listens_on_loopback_by_default(tmp_path, where):
    """`streamlit run app.py` as the README says, from the repository or from any other folder."""
    addrs = _serve(REPO if where == "repo" else tmp_path, "--browser.gatherUsageStats", "false")
    assert addrs and addrs <= LOOPBACK, addrs


def test_a_workshop_exposes_it_deliberately(tmp_path):
    addrs = _serve(tmp_path, "--server.address", "0.0.0.0")
    assert addrs == {"00000000"}, addrs


def test_the_app_refuses_to_serve_on_every_interface_without_a_deliberate_setting():
    from twin.app.serving import exposure

    assert exposure("127.0.0.1") == "loopback" and exposure("localhost") == "loopback"
    assert exposure("") == "unset" and exposure(None) == "unset"
    assert exposure("0.0.0.0") == "network" and exposure("192.168.0.10") == "network"


# --- 2. no server path typed in the browser ---------------------------------------------------
def _run_page(scenario: str | None = None) -> AppTest:
    at = open_page(AppTest.from_file(APP, default_timeout=300).run(), "run")
    if scenario:
        at.selectbox(key="scenario:ko").set_value(f"{scenario}.yaml").run()
    assert not at.exception
    return at


def _typed(at: AppTest, scenario: str, text: str) -> list[str]:
    at.text_area(key=f"overrides:{Path(scenario).stem}").input(text)
    at.button(key="run").click().run()
    assert not at.exception
    return [e.value for e in at.error]


def test_path_fields_typed_in_the_browser_are_refused_without_reading_the_file(secret):
    at = _run_page()
    cases = [
        (f"rainfall.kind=observed\nrainfall.csv={secret}", "업로드"),
        (f"rainfall={{kind: observed, csv: {secret}}}", "업로드"),
        (f"rainfall.kind=observed\n rainfall . csv = {secret}", "업로드"),
        ("dataset=../gis_data/uijeongbu", "twin run"),
        (f"dataset={secret.parent}", "twin run"),
    ]
    for text, hint in cases:
        errors = _typed(at, "flash_flood_jungnangcheon", text)
        assert errors, text
        assert all(SECRET not in e and "hunter2" not in e for e in errors), errors
        assert any(hint in e for e in errors), errors
        assert "run_key" not in at.session_state  # nothing was run


def test_a_policy_typed_in_the_browser_is_refused(secret):
    at = _run_page("gates/gate_stuck_open")
    for text in (f"controller.policy={secret}", f"controller={{kind: builtin, policy: {secret}}}"):
        errors = _typed(at, "gate_stuck_open", text)
        assert errors and all(SECRET not in e for e in errors), errors
        assert any("controller.policy" in e and ("pick" in e or "고르" in e) for e in errors), errors
        assert "run_key" not in at.session_state


@pytest.mark.parametrize("scenario", ["flash_flood_evening_walkers", "gates/flash_flood_gates"])
def test_the_compare_page_refuses_path_fields_too(secret, scenario):
    """Typed under "Advanced", a policy path is refused before the server reads it, also on a scenario
    with a gate controller, whose own policy line the proposal form writes (that one is not typed)."""
    at = open_page(AppTest.from_file(APP, default_timeout=300).run(), "compare")
    assert at.header[0].value == "제안과 현재 비교"
    at.selectbox(key="cmp_scenario:ko").set_value(f"{scenario}.yaml").run()
    stem = scenario.rpartition("/")[2]
    at.text_area(key=f"cmp_sets:{stem}").input(f"controller.policy={secret}")
    at.button(key="cmp_run").click().run()
    assert not at.exception and at.error
    assert all(SECRET not in e.value for e in at.error)
    assert any("controller.policy" in e.value and ("pick" in e.value or "고르" in e.value) for e in at.error)
    assert "cmp_key" not in at.session_state  # refused, not read and failed
    assert not at.get("deck_gl_json_chart")  # nothing was run


def test_path_fields_are_every_path_of_the_scenario_schema():
    """Every field the schema says is a file or folder 'relative to the scenario file' is refused."""
    import re

    from twin.app.overrides import PATH_FIELDS
    from twin.scenario import Scenario

    found = set()
    schema = Scenario.model_json_schema()
    owners = {"Scenario": "", "ObservedRain": "rainfall.", "ControllerSpec": "controller.", "CollapseSpec": "collapse."}
    for name, node in [("Scenario", schema), *schema.get("$defs", {}).items()]:
        for field, spec in node.get("properties", {}).items():
            if re.search(r"relative to the scenario file", spec.get("description", "")):
                assert name in owners, name  # a new owner of a path: add it to PATH_FIELDS
                found.add(owners[name] + field)
    assert found == set(PATH_FIELDS)


def test_browser_overrides_checker():
    from twin.app.overrides import browser_override_problems

    assert browser_override_problems(["rainfall.total_mm=90", "seed=3", "populations.0.count=5"]) == []
    for bad in (
        "rainfall.csv=/etc/shadow",
        "rainfall={kind: observed, csv: /etc/shadow}",
        "controller.policy=x.yaml",
        "collapse.policy=/etc/shadow",
        "collapse={policy: /etc/shadow}",
        "controller={policy: x.yaml}",
        "dataset=x",
        " Dataset =x",
        "=x",
    ):
        problems = browser_override_problems([bad])
        assert problems and "/etc/shadow" not in problems[0], bad


def test_an_uploaded_rain_file_is_kept_by_the_store(tmp_path):
    from twin.app.runs import RunStore

    store = RunStore(None, root=tmp_path / "store")
    p = store.save_upload("../../evil name.csv", b"time,gauge_id,mm\n")
    assert p.parent == store.root / "uploads" and p.suffix == ".csv" and ".." not in p.name
    assert p.read_bytes() == b"time,gauge_id,mm\n"
    with pytest.raises(TwinError, match="larger than"):
        store.save_upload("big.csv", b"x" * (store.max_upload_bytes + 1))


# --- 5. the dataset of the run is the dataset used ------------------------------------------
def test_a_scenario_on_another_dataset_is_not_run_on_the_loaded_city(city, tmp_path):
    from twin.runner import run_scenario
    from twin.scenario import load_scenario

    other = REPO / "gis_data" / "verification" / "corridor"
    s = load_scenario(REPO / "scenarios" / "flash_flood_jungnangcheon.yaml", overrides=[f"dataset={other}"])
    with pytest.raises(TwinError, match="dataset"):
        run_scenario(s, out=tmp_path / "run", city=city)
    assert not (tmp_path / "run").exists()


def test_the_store_refuses_a_dataset_it_did_not_load(city, tmp_path):
    from twin.app.runs import RunStore

    store = RunStore(city, root=tmp_path / "store")
    other = REPO / "gis_data" / "verification" / "corridor"
    with pytest.raises(TwinError, match="dataset"):
        store.get(REPO / "scenarios" / "flash_flood_jungnangcheon.yaml", (f"dataset={other}",))
