"""CAP 1.2 alerts in the Korean profile, built for the tests (not fixtures of the library)."""

from __future__ import annotations

from xml.sax.saxutils import escape

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""


def korean_alert(
    identifier: str = "KR-UJB-2026-0715-0001",
    *,
    msg_type: str = "Alert",
    headline_ko: str = "중랑천 산책로 통제",
    description_ko: str = "하천 수위 상승으로 산책로 출입을 통제합니다. 즉시 대피하십시오.",
    headline_en: str = "Jungnangcheon paths closed",
    references: str | None = None,
    expires: str | None = "2026-07-15T20:00:00+09:00",
    with_ko: bool = True,
    severity: str = "Severe",
) -> bytes:
    def info(lang: str, headline: str, description: str) -> str:
        return f"""
  <info>
    <language>{lang}</language>
    <category>Met</category>
    <event>{escape("호우경보" if lang == "ko-KR" else "Heavy rain warning")}</event>
    <urgency>Immediate</urgency>
    <severity>{severity}</severity>
    <certainty>Observed</certainty>
    <eventCode><valueName>TTAS.KO-07.0046/R5 재난 종류 코드</valueName><value>HRW</value></eventCode>
    {f"<expires>{expires}</expires>" if expires else ""}
    <senderName>의정부시</senderName>
    <headline>{escape(headline)}</headline>
    <description>{escape(description)}</description>
    <area>
      <areaDesc>경기도 의정부시</areaDesc>
      <geocode><valueName>행정구역코드</valueName><value>4115000000</value></geocode>
    </area>
  </info>"""

    infos = (info("ko-KR", headline_ko, description_ko) if with_ko else "") + info("en-US", headline_en, "")
    refs = f"\n  <references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>uijeongbu.go.kr</sender>
  <sent>2026-07-15T18:40:00+09:00</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  <code>대한민국정부1.0</code>{refs}{infos if msg_type != "Cancel" else ""}
</alert>
""".encode()
