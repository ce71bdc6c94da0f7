"""CAP 1.2 alerts (OASIS Common Alerting Protocol) as Korean alerting systems send them, read
safely: no DTD, no entities, no external references (defusedxml), a size limit, and the
required elements and values of CAP 1.2 checked, plus what the Korean profile adds (an info
block in ko-KR). Errors say which element is wrong and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from twin.errors import TwinError

NS = "urn:oasis:names:tc:emergency:cap:1.2"
MAX_BYTES = 256 * 1024
STATUS = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPE = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPE = ("Public", "Restricted", "Private")
CATEGORY = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)
URGENCY = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITY = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTY = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")  # CAP 1.2 3.3.2: the offset is required
DATETIME_EXAMPLE = "2026-07-15T16:30:00+09:00"


class CapError(TwinError, ValueError):
    """A CAP message that is not well-formed, not safe, or not valid CAP 1.2 (Korean profile)."""


@dataclass
class CapInfo:
    language: str
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str = ""
    description: str = ""
    instruction: str = ""
    event_codes: dict[str, str] = field(default_factory=dict)
    expires: str | None = None
    expires_at: datetime | None = None  # ``expires`` as an aware datetime
    areas: list[dict[str, object]] = field(default_factory=list)


@dataclass
class CapAlert:
    identifier: str
    sender: str
    sent: str
    status: str
    msg_type: str
    scope: str
    references: str = ""
    infos: list[CapInfo] = field(default_factory=list)

    def info(self, language: str) -> CapInfo | None:
        return next((i for i in self.infos if i.language.lower() == language.lower()), None)


def _text(el: Element, name: str) -> str | None:
    child = el.find(f"{{{NS}}}{name}")
    return None if child is None or child.text is None else child.text.strip()


def _shown(value: str, limit: int = 40) -> str:
    """A short value as the error repeats it; a long one only by its length."""
    return repr(value) if len(value) <= limit and value.isprintable() else f"{len(value)} characters"


def _need(el: Element, name: str, where: str, choices: tuple[str, ...] | None = None) -> str:
    value = _text(el, name)
    if not value:
        raise CapError(f"{where}/{name}: missing: CAP 1.2 requires it")
    if choices and value not in choices:
        raise CapError(f"{where}/{name}: got {_shown(value)}: expected one of {', '.join(choices)}")
    return value


def _when(value: str | None, path: str) -> datetime | None:
    """A CAP date-time (``sent``, ``effective``, ``onset``, ``expires``): the UTC offset is
    required (CAP 1.2, 3.3.2), and the date and offset must exist."""
    if value is None:
        return None
    if not DATETIME.match(value):
        raise CapError(f"{path}: got {_shown(value)}: expected a date-time with offset, e.g. {DATETIME_EXAMPLE}")
    try:
        when = datetime.fromisoformat(value)
        when.astimezone(UTC)
    except (ValueError, OverflowError):
        raise CapError(f"{path}: got {_shown(value)}: not a real date, time or offset") from None
    return when


def parse_cap(data: bytes) -> CapAlert:
    """Parse and check a CAP 1.2 alert; raises :class:`CapError` with the reason."""
    if len(data) > MAX_BYTES:
        raise CapError(f"message of {len(data)} bytes: expected at most {MAX_BYTES}")
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CapError(f"unsafe XML refused ({type(exc).__name__}): DTDs and entities are not accepted") from None
    except ParseError as exc:
        raise CapError(f"not well-formed XML: {exc}") from None
    if root.tag != f"{{{NS}}}alert":
        raise CapError(f"root element {root.tag!r}: expected alert in namespace {NS}")
    sent = _need(root, "sent", "alert")
    _when(sent, "alert/sent")
    alert = CapAlert(
        identifier=_need(root, "identifier", "alert"),
        sender=_need(root, "sender", "alert"),
        sent=sent,
        status=_need(root, "status", "alert", STATUS),
        msg_type=_need(root, "msgType", "alert", MSG_TYPE),
        scope=_need(root, "scope", "alert", SCOPE),
        references=_text(root, "references") or "",
    )
    if alert.scope == "Restricted" and not _text(root, "restriction"):
        raise CapError("alert/restriction: missing: required when scope is Restricted")
    for k, info in enumerate(root.findall(f"{{{NS}}}info")):
        where = f"alert/info[{k + 1}]"
        cats = [c.text.strip() for c in info.findall(f"{{{NS}}}category") if c.text]
        if not cats:
            raise CapError(f"{where}/category: missing: CAP 1.2 requires at least one")
        bad = [c for c in cats if c not in CATEGORY]
        if bad:
            raise CapError(f"{where}/category: got {bad[0]!r}: expected one of {', '.join(CATEGORY)}")
        for name in ("effective", "onset"):
            _when(_text(info, name), f"{where}/{name}")
        expires = _text(info, "expires")
        expires_at = _when(expires, f"{where}/expires")
        codes = {}
        for ec in info.findall(f"{{{NS}}}eventCode"):
            codes[_need(ec, "valueName", f"{where}/eventCode")] = _text(ec, "value") or ""
        areas: list[dict[str, object]] = []
        for a, area in enumerate(info.findall(f"{{{NS}}}area")):
            geocodes = {
                _need(g, "valueName", f"{where}/area[{a + 1}]/geocode"): _text(g, "value") or ""
                for g in area.findall(f"{{{NS}}}geocode")
            }
            areas.append({"areaDesc": _need(area, "areaDesc", f"{where}/area[{a + 1}]"), "geocodes": geocodes})
        alert.infos.append(
            CapInfo(
                language=_text(info, "language") or "en-US",
                event=_need(info, "event", where),
                urgency=_need(info, "urgency", where, URGENCY),
                severity=_need(info, "severity", where, SEVERITY),
                certainty=_need(info, "certainty", where, CERTAINTY),
                headline=_text(info, "headline") or "",
                description=_text(info, "description") or "",
                instruction=_text(info, "instruction") or "",
                event_codes=codes,
                expires=expires,
                expires_at=expires_at,
                areas=areas,
            )
        )
    if alert.msg_type in ("Alert", "Update") and alert.info("ko-KR") is None:
        raise CapError("alert/info: no info block in ko-KR: the Korean profile needs one (en-US may follow)")
    return alert
