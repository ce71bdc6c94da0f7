"""CAP 1.2 alerts (OASIS Common Alerting Protocol, Korean profile: a ko-KR info block first) for a
gate's signboard: the warning before closing, the closed notice, and the Cancel that clears them;
and how a stand-alone controller posts one to a signboard of the fleet (:func:`post_cap`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from .signboard_text import GateMessage

SENDER = "uijeongbu.go.kr"
AREA = "경기도 의정부시"
AREA_CODE = "4115000000"  # 행정구역코드 of 의정부시


def _time(t: datetime) -> str:
    """CAP's dateTime: seconds and a numeric UTC offset, never ``Z``."""
    return t.isoformat(timespec="seconds").replace("+00:00", "-00:00")


def cap_alert(
    identifier: str,
    sent: datetime,
    message: GateMessage | None,
    *,
    references: str | None = None,
    place: str = "",
) -> bytes:
    """An Alert carrying ``message`` (ko-KR then en-US), or with ``message`` None a Cancel of the
    alerts in ``references`` (CAP's "sender,identifier,sent" entries, space-separated)."""
    kind = "Alert" if message is not None else "Cancel"
    refs = f"<references>{escape(references)}</references>" if references else ""
    infos = ""
    if message is not None:
        where = escape(f"{AREA} {place}".strip())
        for lang, headline, description in (
            ("ko-KR", message.headline_ko, message.description_ko),
            ("en-US", message.headline_en, ""),
        ):
            infos += (
                f"<info><language>{lang}</language><category>Safety</category><category>Met</category>"
                f"<event>{escape(message.event)}</event><urgency>Immediate</urgency>"
                f"<severity>{message.severity}</severity><certainty>Observed</certainty>"
                f"<senderName>의정부시</senderName><headline>{escape(headline)}</headline>"
                + (f"<description>{escape(description)}</description>" if description else "")
                + f"<area><areaDesc>{where}</areaDesc><geocode><valueName>행정구역코드</valueName>"
                f"<value>{AREA_CODE}</value></geocode></area></info>"
            )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>{escape(identifier)}</identifier><sender>{SENDER}</sender><sent>{_time(sent)}</sent>"
        f"<status>Actual</status><msgType>{kind}</msgType><scope>Public</scope>{refs}{infos}</alert>"
    ).encode()


def reference(identifier: str, sent: datetime) -> str:
    """The ``references`` entry that points at an alert."""
    return f"{SENDER},{identifier},{_time(sent)}"


async def post_cap(http: Any, board: dict[str, Any], password: str, body: bytes) -> str | None:
    """POST the CAP message ``body`` to the signboard ``board`` (its manifest entry) with its Basic
    credentials, through ``http`` (an ``httpx.AsyncClient``); the problem in words, or None."""
    import httpx

    url = f"http://{board['http']['host']}:{board['http']['port']}{board['http']['post_cap']}"
    try:
        r = await http.post(url, content=body, headers={"Content-Type": "application/cap+xml"},
                            auth=(board["id"], password))  # fmt: skip
    except httpx.HTTPError as exc:
        return f"CAP post failed: {exc}"
    return None if r.status_code == 200 else f"signboard answered {r.status_code}: {r.text[:120]}"
