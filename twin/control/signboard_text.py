"""What a disaster text signboard (재해문자전광판) shows: text laid out on its lines, and the
messages the reference gate controller puts up (Korean first, English for the record)."""

from __future__ import annotations

from dataclasses import dataclass


def layout(text: str, lines: int, width: int) -> list[str]:
    """Break ``text`` into at most ``lines`` lines of at most ``width`` characters."""
    words, out, cur = text.split(), [], ""
    for w in words:
        while len(w) > width:  # Korean text often has long runs without spaces
            if cur:
                out.append(cur)
                cur = ""
            out.append(w[:width])
            w = w[width:]
        if not cur:
            cur = w
        elif len(cur) + 1 + len(w) <= width:
            cur += " " + w
        else:
            out.append(cur)
            cur = w
    if cur:
        out.append(cur)
    return out[:lines]


def layout_parts(parts: list[str | None], lines: int, width: int) -> list[str]:
    """Lay out a headline and a description: each starts on a new line, cut to ``lines``."""
    out: list[str] = []
    for part in parts:
        if part:
            out += layout(part, lines, width)
    return out[:lines]


@dataclass(frozen=True)
class GateMessage:
    """A signboard message about a gate: what the CAP alert carries and the board shows."""

    event: str
    headline_ko: str
    description_ko: str
    headline_en: str
    severity: str

    def lines(self, lines: int = 2, width: int = 12) -> list[str]:
        return layout_parts([self.headline_ko, self.description_ko], lines, width)


GATE_WARNING = GateMessage(
    "하천 산책로 통제", "산책로 통제 예정", "즉시 올라오세요", "Path closing soon: leave now", "Severe"
)
GATE_CLOSED = GateMessage("하천 산책로 통제", "산책로 출입 통제", "하천 범람 위험", "Path closed: flood risk", "Severe")
