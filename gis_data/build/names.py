"""English names for Korean facility names: translated suffixes plus Revised Romanization."""

from __future__ import annotations

from korean_romanizer.romanizer import Romanizer

SUFFIXES = [
    ("초등학교", "Elementary School"),
    ("여자중학교", "Girls' Middle School"),
    ("중학교", "Middle School"),
    ("여자고등학교", "Girls' High School"),
    ("과학고등학교", "Science High School"),
    ("공업고등학교", "Technical High School"),
    ("고등학교", "High School"),
    ("어린이집", "Daycare Center"),
    ("유치원", "Kindergarten"),
    ("학교", "School"),
]


def romanize_facility(name: str) -> str:
    """'가능초등학교' -> 'Ganeung Elementary School' (approximate romanization)."""
    for ko, en in SUFFIXES:
        if name.endswith(ko) and len(name) > len(ko):
            stem = name[: -len(ko)]
            return f"{_rr(stem)} {en}"
    return _rr(name)


def _rr(text: str) -> str:
    out = Romanizer(text).romanize()
    return out[:1].upper() + out[1:] if out else out
