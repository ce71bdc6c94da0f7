"""The CCTV cameras against an ONVIF client library this project did not write (onvif-zeep-async),
and against forged, replayed and malformed SOAP."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import secrets
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

onvif = pytest.importorskip("onvif", reason="onvif-zeep-async is not installed")

from test_devices_fleet import RunningFleet  # noqa: E402 - after the importorskip

pytestmark = pytest.mark.hil  # a fleet on the wall clock

REPO = Path(__file__).resolve().parents[1]
CAM = "CAM-G02"  # watches the ramp at AP-JN-L07, where the evening walkers pass


@pytest.fixture(scope="module")
def cams(city, tmp_path_factory):
    from sim_devices.fleet import Fleet
    from twin.scenario import load_scenario

    folder = tmp_path_factory.mktemp("cams")
    s = load_scenario(REPO / "scenarios" / "flash_flood_evening_walkers.yaml")
    fleet = Fleet(s, city=city, speed=60, workdir=folder, kinds=("cctv",))
    run = RunningFleet(fleet, folder / "manifest.json").start()
    yield {"fleet": fleet, "manifest": run.manifest, "creds": run.creds, "thread": run.thread, "run": run}
    run.stop()


def _cam(cams):
    d = next(x for x in cams["manifest"]["devices"] if x["id"] == CAM)
    return d, cams["creds"][CAM]["password"]


def test_the_manifest_lists_every_camera_with_its_onvif_endpoint(cams):
    devs = [d for d in cams["manifest"]["devices"] if d["kind"] == "cctv"]
    assert len(devs) == 108 and len({d["onvif"]["port"] for d in devs}) == 108
    assert all(d["onvif"]["host"] == "127.0.0.1" for d in devs)


def test_onvif_zeep_async_authenticates_lists_profiles_fetches_a_snapshot_and_pulls_an_analytics_event(cams):
    d, pw = _cam(cams)

    async def client():
        from onvif import ONVIFCamera

        c = ONVIFCamera("127.0.0.1", d["onvif"]["port"], CAM, pw)
        await c.update_xaddrs()
        info = await (await c.create_devicemgmt_service()).GetDeviceInformation()
        media = await c.create_media_service()
        profiles = await media.GetProfiles()
        from zeep.exceptions import Fault

        try:  # no RTSP server runs: no stream URI is given out, as the capabilities say
            await media.GetStreamUri(
                {
                    "ProfileToken": profiles[0].token,
                    "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
                }
            )
            stream = None
        except Fault as exc:
            stream = exc
        snap = await c.get_snapshot(profiles[0].token)
        ev = await c.create_events_service()
        sub = await ev.CreatePullPointSubscription({"InitialTerminationTime": "PT600S"})
        c.xaddrs["http://www.onvif.org/ver10/events/wsdl/PullPointSubscription"] = (
            sub.SubscriptionReference.Address._value_1
        )
        pp = await c.create_pullpoint_service()
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(op == "Changed" and v == "true" for op, v, _ in seen):
            r = await pp.PullMessages({"Timeout": "PT5S", "MessageLimit": 10})
            for n in r.NotificationMessage:
                msg = n.Message._value_1
                items = {i.Name: i.Value for i in msg.Data.SimpleItem}
                rule = {i.Name: i.Value for i in msg.Source.SimpleItem}["Rule"]
                seen.append((msg.PropertyOperation, items["IsInside"], (n.Topic._value_1, rule)))
        await c.close()
        return info, profiles, stream, snap, seen

    info, profiles, stream, snap, seen = asyncio.run(client())
    assert info.SerialNumber == CAM and info.Manufacturer
    assert [p.token for p in profiles] == ["profile_main"]
    assert stream is not None and "no video stream is served" in stream.message
    assert snap[:8] == b"\x89PNG\r\n\x1a\n" and len(snap) > 5000
    assert seen[0][0] == "Initialized"
    assert ("Changed", "true", ("tns1:RuleEngine/FieldDetector/ObjectsInside", "Zone-AP-JN-L07")) in seen
    logged = cams["fleet"].sim.engine.events.to_frame()
    assert ((logged.kind == "cctv.objects_inside") & (logged.entity_id == CAM)).any()


def _token(user: str, password: str, *, created: datetime | None = None, nonce: bytes | None = None) -> str:
    nonce = nonce or secrets.token_bytes(16)
    created_s = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    digest = base64.b64encode(hashlib.sha1(nonce + created_s.encode() + password.encode()).digest()).decode()
    return (
        '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" '
        'xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">'
        f"<wsse:UsernameToken><wsse:Username>{user}</wsse:Username>"
        '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0'
        f'#PasswordDigest">{digest}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{created_s}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security>"
    )


def _soap(port: int, body: str, header: str = "", path: str = "/onvif/device_service") -> tuple[int, str]:
    env = (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
        f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    )
    return _post(port, env.encode(), path)


def _post(port: int, data: bytes, path: str = "/onvif/device_service") -> tuple[int, str]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST")
    req.add_header("Content-Type", "application/soap+xml")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_ws_usernametoken_digest_is_required_and_forged_stale_or_replayed_tokens_are_refused(cams):
    d, pw = _cam(cams)
    port = d["onvif"]["port"]
    info = "<tds:GetDeviceInformation/>"
    assert _soap(port, "<tds:GetSystemDateAndTime/>")[0] == 200  # the one call without authentication
    code, text = _soap(port, info)
    assert code == 400 and "ter:NotAuthorized" in text
    assert _soap(port, info, _token(CAM, "wrong"))[0] == 400
    assert "ter:NotAuthorized" in _soap(port, info, _token(CAM, pw, created=datetime.now(UTC) - timedelta(hours=1)))[1]
    nonce = secrets.token_bytes(16)
    assert _soap(port, info, _token(CAM, pw, nonce=nonce))[0] == 200
    code, text = _soap(port, info, _token(CAM, pw, nonce=nonce))
    assert code == 400 and "nonce replayed" in text
    other = next(x for x in cams["manifest"]["devices"] if x["kind"] == "cctv" and x["id"] != CAM)["id"]
    assert _soap(port, info, _token(other, cams["creds"][other]["password"]))[0] == 400  # another camera's user
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/snapshot.png", timeout=10)
    assert e.value.code == 401 and e.value.headers["WWW-Authenticate"].startswith("Digest ")


def test_malformed_soap_gets_faults_and_every_camera_keeps_serving(cams):
    d, pw = _cam(cams)
    port = d["onvif"]["port"]
    rng = random.Random(3)
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    codes = []
    for i in range(200):
        k = i % 5
        if k == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        elif k == 1:
            data = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><tds:GetDev'
        elif k == 2:
            data = xxe
        elif k == 3:
            data = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>'
        else:
            code, text = _soap(port, "<tds:SelfDestruct/>", _token(CAM, pw))
            codes.append(code)
            assert "ter:ActionNotSupported" in text
            continue
        code, text = _post(port, data, rng.choice(["/onvif/device_service", "/onvif/media_service", "/x"]))
        codes.append(code)
        assert "s:Fault" in text
    assert set(codes) == {400}
    assert cams["thread"].is_alive()
    for dev in cams["manifest"]["devices"]:
        assert _soap(dev["onvif"]["port"], "<tds:GetSystemDateAndTime/>")[0] == 200
