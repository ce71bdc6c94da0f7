"""The stand-alone gate controller refuses a manifest it cannot use with one line naming the file
and the field, exit 2, never a traceback (found by trying: a manifest that was not JSON, or lacked
its speed, raised out of the program)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from twin.control.remote_controller import main

POLICY = Path(__file__).resolve().parents[1] / "scenarios" / "policies" / "reference_gates.yaml"
GOOD = '{"speed": null, "clock_started_at": 0, "duration_s": 5, "start": "2022-08-08T00:00:00+09:00", "devices": [], "broker": {}}'  # noqa: E501


@pytest.mark.parametrize(
    ("manifest", "credentials", "expected"),
    [
        ("not json", "{}", r"manifest .*manifest\.json: not JSON"),
        ('"a string"', "{}", r"manifest .*: got str: expected a JSON object"),
        ('{"devices": []}', "{}", r"manifest .*: speed: missing"),
        (GOOD, None, r"credentials .*credentials\.json: cannot be read"),
        (GOOD, "{", r"credentials .*: not JSON"),
        (GOOD, "{}", r"manifest .*: clock: got neither a clock device nor a fixed speed"),
    ],
)
def test_a_bad_manifest_is_named_and_exits_2(tmp_path, capsys, manifest, credentials, expected):
    (tmp_path / "manifest.json").write_text(manifest, encoding="utf-8")
    if credentials is not None:
        (tmp_path / "credentials.json").write_text(credentials, encoding="utf-8")
    assert main(["--manifest", str(tmp_path / "manifest.json"), "--policy", str(POLICY), "--wait", "0"]) == 2
    err = capsys.readouterr().err
    assert re.search(expected, err) and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
