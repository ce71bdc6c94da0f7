"""SOAP 1.2 as the ONVIF cameras speak it: namespaces, envelopes, faults with ONVIF subcodes, and
the XML Schema types their requests carry (xsd:dateTime, xs:duration), read strictly.

Every text put into a reply goes through :func:`xml_text` (a fault may name a path a client sent),
so a reply is always well-formed XML.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from xml.sax.saxutils import escape

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "tns1": "http://www.onvif.org/ver10/topics",
    "ter": "http://www.onvif.org/ver10/error",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
XMLNS = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DATETIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,12}))?(Z|[+-]\d\d:\d\d)?$")
_DURATION = re.compile(r"^P(?:(\d{1,12})D)?(?:T(?:(\d{1,12})H)?(?:(\d{1,12})M)?(?:(\d{1,12}(?:\.\d{1,9})?)S)?)?$")


class SoapFault(Exception):
    """A request answered with a SOAP 1.2 fault: HTTP ``status``, ``code`` (s:Sender or
    s:Receiver), ONVIF ``subcodes`` (outermost first) and a one-line ``reason``."""

    def __init__(self, status: int, subcodes: str | tuple[str, ...], reason: str, code: str = "s:Sender") -> None:
        super().__init__(reason)
        self.status, self.code, self.reason = status, code, reason
        self.subcodes = (subcodes,) if isinstance(subcodes, str) else tuple(subcodes)

    def body(self) -> bytes:
        return fault(self.subcodes, self.reason, self.code)


def xml_text(text: object) -> str:
    """``text`` safe inside an XML element or a double-quoted attribute: escaped, and characters
    XML 1.0 cannot carry (controls, lone surrogates) replaced by ``?``."""
    return escape(_NOT_XML.sub("?", str(text)), {'"': "&quot;"})


def iso_utc(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope {XMLNS}><s:Body>{body}</s:Body></s:Envelope>'.encode()


def fault(subcode: str | tuple[str, ...], reason: str, code: str = "s:Sender") -> bytes:
    """A SOAP 1.2 fault envelope; ``reason`` is escaped (it may name a path a client sent)."""
    nested = ""
    for sub in reversed((subcode,) if isinstance(subcode, str) else subcode):
        nested = f"<s:Subcode><s:Value>{xml_text(sub)}</s:Value>{nested}</s:Subcode>"
    return envelope(
        f"<s:Fault><s:Code><s:Value>{xml_text(code)}</s:Value>{nested}</s:Code>"
        f'<s:Reason><s:Text xml:lang="en">{xml_text(" ".join(str(reason).split())[:300])}</s:Text></s:Reason></s:Fault>'
    )


def parse_datetime(text: str) -> datetime:
    """An xsd:dateTime as an aware datetime; no zone means UTC (WS-Security's times are UTC).
    ``ValueError`` when it is not one or does not exist."""
    m = _DATETIME.match(text.strip())
    if not m:
        raise ValueError("expected an xsd:dateTime such as 2026-07-15T09:30:00Z")
    y, mo, d, h, mi, sec, frac, zone = m.groups()
    tz = UTC
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        when = datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec), int((frac or "0")[:6].ljust(6, "0")), tz)
        return when.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("not a real date, time or zone") from None


def parse_duration_s(text: str | None, default: float, *, at_most: float | None = None) -> float:
    """An xs:duration without years or months (PT5S, PT1M, PT1H30M, P1DT2H), in seconds:
    ``default`` when absent, clamped to ``at_most``; ``ValueError`` when it is not one."""
    if text is None or not text.strip():
        return default
    m = _DURATION.match(text.strip())
    if not m or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise ValueError("expected an xs:duration such as PT10M")
    d, h, mi, sec = (float(g) if g else 0.0 for g in m.groups())
    total = d * 86400 + h * 3600 + mi * 60 + sec
    return total if at_most is None else min(total, at_most)
