"""CAP 1.2 (Korean profile): the schema-valid alert is read, unsafe or invalid XML is refused."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cap_samples import LAUGHS, XXE, korean_alert

from sim_devices.cap import CapError, parse_cap
from twin.control.signboard_text import layout

XSD = Path(__file__).parent / "data" / "cap" / "CAP-v1.2.xsd"


@pytest.mark.skipif(shutil.which("xmllint") is None, reason="xmllint not installed (apt-get install -y libxml2-utils)")
def test_the_sample_alerts_validate_against_the_oasis_cap_1_2_schema(tmp_path):
    for name, data in {
        "alert": korean_alert(),
        "cancel": korean_alert("C-1", msg_type="Cancel", references="x"),
    }.items():
        f = tmp_path / f"{name}.xml"
        f.write_bytes(data)
        p = subprocess.run(["xmllint", "--noout", "--schema", str(XSD), str(f)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr


def test_a_korean_profile_alert_is_read():
    a = parse_cap(korean_alert())
    assert (a.status, a.msg_type, a.scope) == ("Actual", "Alert", "Public")
    ko, en = a.info("ko-KR"), a.info("en-US")
    assert ko.headline == "중랑천 산책로 통제" and en.headline == "Jungnangcheon paths closed"
    assert ko.event_codes == {"TTAS.KO-07.0046/R5 재난 종류 코드": "HRW"}
    assert ko.areas[0]["geocodes"] == {"행정구역코드": "4115000000"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (XXE, "unsafe XML refused"),
        (LAUGHS, "unsafe XML refused"),
        (b"<alert", "not well-formed XML"),
        (b"<alert xmlns='urn:other'/>", "expected alert in namespace"),
        (korean_alert(with_ko=False), "no info block in ko-KR"),
        (korean_alert(severity="Catastrophic"), "info[1]/severity: got 'Catastrophic'"),
        (korean_alert().replace(b"<status>Actual</status>", b""), "alert/status: missing"),
        (korean_alert().replace(b"+09:00</sent>", b"</sent>"), "alert/sent: got"),
        (korean_alert(expires="2026-07-15T20:00:00"), "alert/info[1]/expires: got '2026-07-15T20:00:00': expected a"),
        (korean_alert(expires="2026-07-15T20:00:00Z"), "alert/info[1]/expires: got"),
        (korean_alert(expires="2026-02-30T20:00:00+09:00"), "alert/info[1]/expires: got .*: not a real date"),
        (korean_alert().replace(b"<senderName>", b"<onset>2026-07-15T19:00</onset><senderName>", 1), "info[1]/onset"),
        (korean_alert(headline_ko="x" * 5000, severity="y" * 5000), "severity: got 5000 characters"),
        (b"x" * (300 * 1024), "expected at most"),
    ],
)
def test_malformed_unsafe_or_invalid_alerts_are_refused_with_the_reason(data, reason):
    with pytest.raises(CapError, match=reason.replace("[", r"\[").replace("(", r"\(")):
        parse_cap(data)


def test_text_is_laid_out_on_the_board():
    assert layout("하천 수위 상승으로 산책로 출입을 통제합니다", 2, 12) == ["하천 수위 상승으로", "산책로 출입을"]
    assert layout("가" * 30, 2, 12) == ["가" * 12, "가" * 12]
    assert layout("", 2, 12) == []
