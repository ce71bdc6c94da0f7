"""A static overview map of a city model (PNG), for reports and for checking an import by eye."""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .atomic import atomic_file
from .city import CityModel
from .errors import TwinError

ROAD_STYLE = {
    "road": ("#9a9a9a", 0.4),
    "sidewalk": ("#6b8e23", 0.5),
    "bridge": ("#d62728", 1.6),
    "riverside_path": ("#17becf", 1.0),
    "ramp": ("#9467bd", 1.6),
    "stairs": ("#000000", 1.6),
}
DEVICE_STYLE = {
    "gate": ("s", "#d62728", 36),
    "level_sensor": ("^", "#1f77b4", 30),
    "rain_gauge": ("v", "#2ca02c", 20),
    "signboard": ("D", "#ff7f0e", 18),
    "cctv": (".", "#7f7f7f", 10),
    "tilt_sensor": ("x", "#8c564b", 12),
    "crack_sensor": ("+", "#8c564b", 12),
    "extensometer": ("1", "#8c564b", 14),
    "crosswalk": ("P", "#e377c2", 40),
}


def plot_city(city: CityModel, out: str | Path, *, dpi: int = 110, bbox=None) -> Path:
    """Draw boundary, dongs, buildings (by age), streams, walk network, shelters and devices.

    Coordinates are EPSG:5186 metres. ``bbox`` = (minx, miny, maxx, maxy) in EPSG:5186 zooms in.
    The PNG is written atomically; returns its path.
    """
    if bbox is not None:
        bbox = tuple(float(v) for v in bbox)
        if not all(math.isfinite(v) for v in bbox) or not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
            raise TwinError(f"bbox must be finite minx miny maxx maxy with min < max (EPSG:5186 m), got {bbox}")
    # a Figure of its own, not pyplot: no global backend or figure state is touched
    fig = Figure(figsize=(11, 11))
    ax = fig.subplots()
    city.layer("dongs").boundary.plot(ax=ax, color="#cccccc", linewidth=0.6)
    city.layer("boundary").boundary.plot(ax=ax, color="#333333", linewidth=1.2)
    b = city.layer("buildings")
    if len(b):
        old = (b["year_built"] <= city.reference_year - 30).fillna(False).astype(bool)
        b[~old].plot(ax=ax, color="#c7c7c7", linewidth=0)
        b[old].plot(ax=ax, color="#e6550d", linewidth=0)
    s = city.layer("streams")
    if len(s):
        s.plot(ax=ax, color="#1f77b4", linewidth=s["width_m"].clip(10, 90) / 18)
    roads = city.layer("roads")
    for kind, (color, lw) in ROAD_STYLE.items():
        sub = roads[roads["kind"] == kind]
        if len(sub):
            sub.plot(ax=ax, color=color, linewidth=lw)
    shelters = city.facilities_of_kind("shelter")
    if len(shelters):
        shelters.plot(ax=ax, marker="o", color="#2ca02c", markersize=14, edgecolor="white", linewidth=0.4)
    schools = city.facilities_of_kind("school")
    if len(schools):
        schools.plot(ax=ax, marker="*", color="#bcbd22", markersize=40, edgecolor="black", linewidth=0.3)
    dev = city.layer("devices")
    handles = [Line2D([], [], color=c, lw=max(lw, 1.2), label=k.replace("_", " ")) for k, (c, lw) in ROAD_STYLE.items()]
    handles += [
        Line2D([], [], color="#1f77b4", lw=3, label="stream"),
        Line2D([], [], marker="s", ls="", color="#e6550d", label="building >= 30 years"),
        Line2D([], [], marker="o", ls="", color="#2ca02c", label="shelter"),
        Line2D([], [], marker="*", ls="", color="#bcbd22", markeredgecolor="black", label="school"),
    ]
    for kind, (marker, color, size) in DEVICE_STYLE.items():
        sub = dev[dev["kind"] == kind] if len(dev) else dev
        if len(sub):
            sub.plot(ax=ax, marker=marker, color=color, markersize=size)
            handles.append(Line2D([], [], marker=marker, ls="", color=color, label=kind.replace("_", " ")))
    if bbox is not None:
        ax.set_xlim(bbox[0], bbox[2])
        ax.set_ylim(bbox[1], bbox[3])
    ax.set_aspect("equal")
    ax.set_xlabel("x, EPSG:5186 (m)")
    ax.set_ylabel("y, EPSG:5186 (m)")
    ax.set_title(str(city.manifest.get("name", city.path.name)).replace("(의정부시) ", ""))
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9, ncols=2)
    out = Path(out)
    with atomic_file(out, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    return out
