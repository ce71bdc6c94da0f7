"""Run folders that survive anything: malformed folders give one line naming the file and the
problem (never its contents), downloads never follow a symlink, a run killed during its write
never leaves something that opens as a run, and the app's temporary run store cleans up."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from twin.errors import RunFolderError
from twin.results import read_run_folder, zip_run_folder

REPO = Path(__file__).resolve().parents[1]
SECRET = "SECRET-7f3a"  # written into every malformed file; no message may repeat it


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def _put_summary(folder: Path, change) -> None:
    s = _summary(folder)
    change(s)
    (folder / "summary.json").write_text(json.dumps(s), encoding="utf-8")


def _table(folder: Path, name: str, change) -> None:
    df = pd.read_parquet(folder / name)
    change(df).to_parquet(folder / name, index=False)


def _events(change):
    return lambda f: _table(f, "events.parquet", change)


def _stage_event(df: pd.DataFrame, data: str) -> pd.DataFrame:
    df = df.copy()
    i = df.index[df["kind"] == "stage.threshold_up"][0]
    df.loc[i, "data"] = data
    return df


def _secret_file(tmp: Path) -> Path:
    p = tmp / "secret.txt"
    p.write_text(f"{SECRET}=hunter2\n", encoding="utf-8")
    return p


def _write(name: str, data: bytes | str):
    def go(f: Path) -> None:
        p = f / name
        if isinstance(data, str):
            p.write_text(data, encoding="utf-8")
        else:
            p.write_bytes(data)

    return go


def _rm(name: str):
    return lambda f: (f / name).unlink()


def _symlink(name: str):
    def go(f: Path) -> None:
        (f / name).unlink()
        (f / name).symlink_to(_secret_file(f.parent))

    return go


def _truncate(name: str):
    def go(f: Path) -> None:
        data = (f / name).read_bytes()
        (f / name).write_bytes(data[: len(data) // 2])

    return go


def _dir_for(name: str):
    def go(f: Path) -> None:
        (f / name).unlink()
        (f / name).mkdir()

    return go


def _empty(f: Path) -> None:
    for p in list(f.iterdir()):
        p.unlink()


def _set(path: str, value):
    def change(s: dict) -> None:
        node = s
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return lambda f: _put_summary(f, change)


def _verdict(text: str):
    return _write("verdict.json", text)


# (case id, how to break a good run folder, whether twin.results itself must refuse it: the
# others are refused by the app's loader, which also checks what the pages read)
MALFORMED = [
    ("empty_folder", _empty, True),
    ("no_summary", _rm("summary.json"), True),
    ("no_timeseries", _rm("timeseries.parquet"), True),
    ("no_events", _rm("events.parquet"), True),
    ("summary_not_json", _write("summary.json", "{" + SECRET), True),
    ("summary_json_list", _write("summary.json", f'["{SECRET}"]'), True),
    ("summary_deep_nesting", _write("summary.json", "[" * 100_000 + "]" * 100_000), True),
    ("summary_nan", _set("gauges.LS-1018665.peak_stage_m", float("nan")), True),
    ("summary_1e999", _write("summary.json", '{"gauges": {"LS-1018665": {"peak_stage_m": 1e999}}}'), True),
    ("summary_huge_int", _write("summary.json", '{"crowd": {"exposed_people": ' + "9" * 4000 + "}}"), True),
    ("summary_not_utf8", _write("summary.json", b'{"scenario": "\xff\xfe' + SECRET.encode() + b'"}'), True),
    ("summary_gauges_text", _set("gauges", SECRET), True),
    ("summary_peak_text", _set("gauges.LS-1018665.peak_stage_m", SECRET), True),
    ("summary_orders_list", _set("crowd.evacuation_orders", [SECRET]), True),
    ("summary_count_text", _set("flooded_paths.count", SECRET), True),
    ("summary_duration_text", _set("scenario.duration_s", SECRET), True),
    ("summary_scenario_number", _set("scenario", 5), True),
    ("summary_is_a_folder", _dir_for("summary.json"), True),
    ("summary_symlink", _symlink("summary.json"), True),
    ("timeseries_truncated", _truncate("timeseries.parquet"), True),
    ("timeseries_garbage", _write("timeseries.parquet", SECRET * 50), True),
    ("timeseries_wrong_columns", lambda f: pd.DataFrame({SECRET: [1.0]}).to_parquet(f / "timeseries.parquet"), True),
    ("events_time_text", _events(lambda d: d.assign(time_s=SECRET)), True),
    ("events_time_nan", _events(lambda d: d.assign(time_s=float("nan"))), True),
    ("events_data_not_json", _events(lambda d: _stage_event(d, "{" + SECRET)), False),
    ("events_unknown_level", _events(lambda d: _stage_event(d, json.dumps({"level": SECRET}))), False),
    ("trajectories_garbage", _write("trajectories.parquet", b"PAR1" + SECRET.encode() * 9), True),
    ("evacuees_no_column", lambda f: pd.DataFrame({SECRET: [1]}).to_parquet(f / "evacuees.parquet"), True),
    ("timeseries_symlink", _symlink("timeseries.parquet"), True),
    ("verdict_garbage", _verdict("{" + SECRET), False),
    ("verdict_wrong_types", _verdict(json.dumps({"passed": SECRET, "gates": [SECRET]})), False),
]


@pytest.fixture(scope="module")
def good_run(walkers_run, tmp_path_factory) -> Path:
    """A private copy of the evening-walkers run folder (flood, crowd, trajectories, evacuees)."""
    dst = tmp_path_factory.mktemp("good") / "run"
    shutil.copytree(walkers_run.folder, dst)
    return dst


@pytest.fixture(scope="module")
def malformed(good_run, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("malformed")
    out = {}
    for name, breaks, _ in MALFORMED:
        folder = root / name / "run"
        folder.parent.mkdir()
        shutil.copytree(good_run, folder)
        breaks(folder)
        out[name] = folder
    return out


def _check_message(msg: str, name: str) -> None:
    assert "\n" not in msg.strip(), (name, msg)
    assert SECRET not in msg and "hunter2" not in msg, (name, msg)
    assert "Traceback" not in msg, (name, msg)


@pytest.mark.parametrize("name", [m[0] for m in MALFORMED if m[2]])
def test_results_reader_refuses_a_malformed_run_folder_in_one_line(malformed, name):
    folder = malformed[name]
    with pytest.raises(RunFolderError) as exc:
        read_run_folder(folder)
    msg = str(exc.value)
    _check_message(msg, name)
    assert str(folder) in msg, msg  # names the folder or a file in it


@pytest.mark.parametrize("name", [m[0] for m in MALFORMED])
def test_app_loader_refuses_a_malformed_run_folder_in_one_line(malformed, name, city):
    from twin.app.runs import open_run

    with pytest.raises(RunFolderError) as exc:
        open_run(malformed[name], city)
    _check_message(str(exc.value), name)


def test_the_good_copy_still_opens(good_run, city):
    from twin.app.runs import open_run

    assert open_run(good_run, city).summary["crowd"]["people"] > 0


def test_a_file_where_the_folder_should_be(tmp_path):
    f = tmp_path / "run"
    f.write_text(SECRET, encoding="utf-8")
    with pytest.raises(RunFolderError, match="not a folder") as exc:
        read_run_folder(f)
    _check_message(str(exc.value), "file")


def test_the_app_shows_every_malformed_folder_as_a_message(malformed):
    """The same folders opened in the app: an error line each, no exception, no contents."""
    st_testing = pytest.importorskip("streamlit.testing.v1")
    from app_pages import open_page

    at = st_testing.AppTest.from_file(str(REPO / "app.py"), default_timeout=300).run()
    open_page(at, "run")
    shown = 0
    for name, _, _ in MALFORMED:
        at.text_input(key="folder").input(str(malformed[name]))
        at.button(key="open_folder").click().run()
        assert not at.exception, (name, at.exception)
        assert at.error, name
        for e in at.error:
            _check_message(e.value, name)
        shown += 1
    assert shown == len(MALFORMED) >= 30


# --- downloads never follow a symlink -----------------------------------------------------------
def test_zip_skips_symlinks_and_never_leaves_the_folder(good_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    secret = _secret_file(tmp_path)
    (run / "notes.txt").symlink_to(secret)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "key.txt").write_text(SECRET, encoding="utf-8")
    (run / "more").symlink_to(outside, target_is_directory=True)
    (run / "sub").mkdir()
    (run / "sub" / "ok.txt").write_text("fine", encoding="utf-8")
    (run / "sub" / "up.txt").symlink_to(secret)
    data = zip_run_folder(run, name="run")
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = zf.namelist()
    assert "run/summary.json" in names and "run/sub/ok.txt" in names
    assert not [n for n in names if n.endswith(("notes.txt", "key.txt", "up.txt"))], names
    assert all(SECRET.encode() not in zf.read(n) for n in names)


# --- a run killed while it is written never looks like a run ---------------------------------
KILLED = """
import os, shutil, signal, sys
import twin.atomic as A
src, out, stage = sys.argv[1], sys.argv[2], sys.argv[3]

def die(*args):
    os.kill(os.getpid(), signal.SIGKILL)

if stage == "swap":  # SIGKILL between the files and the swap
    os.replace = die
    A._exchange = die
with A.atomic_dir(out, overwrite=True, marker="summary.json") as tmp:
    names = sorted(os.listdir(src))
    if stage == "files":  # SIGKILL with the folder half written
        names = names[: len(names) // 2]
    for name in names:
        shutil.copy(os.path.join(src, name), tmp / name)
    if stage == "files":
        die()
"""


@pytest.mark.parametrize("stage", ["files", "swap"])
def test_a_run_killed_during_its_write_never_opens_as_a_run(good_run, tmp_path, stage):
    parent = tmp_path / "runs"
    parent.mkdir()
    done = parent / "done"
    shutil.copytree(good_run, done)
    target = parent / ("done" if stage == "swap" else "new")
    p = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED), str(good_run), str(target), stage],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == -signal.SIGKILL, p.stderr[-2000:]
    leftovers = [x for x in parent.iterdir() if x.name.startswith(".")]
    assert leftovers, "the kill should leave a partial folder behind"
    for partial in leftovers:
        with pytest.raises(RunFolderError, match="partial|unfinished"):
            read_run_folder(partial)
    assert read_run_folder(done).summary  # the finished run was not lost in the swap
    from twin.results import list_run_folders

    assert [x.name for x in list_run_folders(parent)] == ["done"]
    # the next write in that parent removes the partials of dead writers
    from twin.results import write_run_folder

    run = read_run_folder(good_run)
    write_run_folder(parent / "next", summary=run.summary, timeseries=run.timeseries, events=run.events, files={})
    assert sorted(x.name for x in parent.iterdir()) == ["done", "next"]


def test_the_partials_of_a_live_writer_are_left_alone(tmp_path):
    from twin.atomic import atomic_dir

    with atomic_dir(tmp_path / "a", marker="summary.json") as tmp_a:
        (tmp_a / "x").write_text("1", encoding="utf-8")
        with atomic_dir(tmp_path / "b", marker="summary.json") as tmp_b:
            (tmp_b / "y").write_text("1", encoding="utf-8")
            assert tmp_a.exists()  # ours, alive: not swept by the second write
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a", "b"]


# --- the app's temporary run store cleans up -------------------------------------------------
STORE = """
import sys, tempfile
tempfile.tempdir = sys.argv[1]
from twin.app.runs import RunStore
s = RunStore(None)
print(s.root)
if sys.argv[2] == "kill":
    import os, signal
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""

HOLD = """
import sys, tempfile, time
tempfile.tempdir = sys.argv[1]
from twin.app.runs import RunStore
s = RunStore(None)
print(s.root, flush=True)
time.sleep(60)
"""


def _store(tmp: Path, how: str) -> tuple[int, Path]:
    p = subprocess.run(
        [sys.executable, "-c", STORE, str(tmp), how], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    return p.returncode, Path(p.stdout.strip().splitlines()[-1])


def test_the_run_store_removes_its_folder_at_exit_and_stale_ones_at_start(tmp_path, monkeypatch):
    rc, root = _store(tmp_path, "exit")
    assert rc == 0 and root.name.startswith("twin-app-runs-") and not root.exists()
    rc, killed = _store(tmp_path, "kill")
    assert rc == -signal.SIGKILL and killed.exists()  # SIGKILL: no chance to clean up
    live = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        alive = Path(live.stdout.readline().strip())
        assert alive.exists()
        rc, root = _store(tmp_path, "exit")  # a new store sweeps the dead one, not the live one
        assert not killed.exists() and alive.exists()
    finally:
        live.kill()
        live.wait(timeout=30)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    from twin.app.runs import RunStore

    store = RunStore(None)
    assert store.root.exists()
    store.close()
    assert not store.root.exists()
    assert not [x for x in tmp_path.iterdir() if x.name.startswith("twin-app-runs-")]


def test_list_run_folders_lists_only_complete_runs(good_run, tmp_path):
    from twin.results import list_run_folders

    shutil.copytree(good_run, tmp_path / "b")
    shutil.copytree(good_run, tmp_path / ".b.partial-1-abcd")
    (tmp_path / "c").mkdir()
    (tmp_path / "d").symlink_to(tmp_path / "b", target_is_directory=True)
    os.makedirs(tmp_path / "e")
    (tmp_path / "e" / "summary.json").write_text("{}", encoding="utf-8")
    assert [x.name for x in list_run_folders(tmp_path)] == ["b"]


# --- fuzz: any summary.json either is refused in one line or is drawn without an error --------
SUMMARY_KEYS = [
    "scenario", "name", "duration_s", "gauges", "LS-1018665", "peak_stage_m", "time_of_peak_s", "thresholds_m",
    "attention", "highest_level", "flooded_paths", "count", "min_warning_lead_time_s", "first_s", "access_points",
    "crowd", "evacuation_orders", "중랑천", "people_on_paths", "time_s", "exposed_people", "t90_s", "t100_s",
    "evacuation_lower_bound_s", "bound_s", "swmm", "runoff_continuity_error_pct", "ko", "en",
]  # fmt: skip


def test_fuzz_summary_json_is_refused_or_read_by_every_page_reader(tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from twin.app.kpis import KeyGauge, compare_rows, kpis, plain_kpis
    from twin.app.pages import default_minute
    from twin.results import read_summary

    KEY = KeyGauge("LS-1018665", "신곡교", "중랑천", "Jungnangcheon")

    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**60), 2**60)
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=4)
    )
    values = st.recursive(
        scalars,
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(SUMMARY_KEYS), c, max_size=4),
        max_leaves=25,
    )
    path = tmp_path / "summary.json"
    seen = {"read": 0, "refused": 0}

    @settings(derandomize=True, max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.sampled_from(SUMMARY_KEYS), values, max_size=6))
    def check(doc):
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        try:
            summary = read_summary(path)
        except RunFolderError as exc:
            seen["refused"] += 1
            assert "\n" not in str(exc)
            return
        seen["read"] += 1
        for key in (None, KEY):
            kpis(summary, key)
            for lang in ("ko", "en"):
                plain_kpis(summary, lang, key)
                compare_rows(summary, summary, lang, key)
            default_minute(summary, [0, 5, 10], key)

    check()
    print(f"summary fuzz: {seen}")
    assert seen["read"] > 20 and seen["refused"] > 20, seen


def test_a_run_without_events_still_opens(good_run, tmp_path, city):
    """An empty table has no column types to check (pandas reads it back as object columns)."""
    from twin.app.runs import open_run

    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    pd.DataFrame({c: [] for c in ("time_s", "kind", "entity_id", "message", "data")}).to_parquet(
        run / "events.parquet", index=False
    )
    assert len(open_run(run, city).events) == 0
