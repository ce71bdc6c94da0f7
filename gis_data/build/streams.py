"""Stream reaches with approximate channel geometry.

Centrelines are the traced NGII lines (real, ~20-60 m). Channel width, bank height, bed
elevation and Manning n are not published: they are authored here from general knowledge of
the streams (levee-lined urban streams, Jungnangcheon falling about 1:400 through the city) and
labelled approximate. Reaches are cut at confluences, at the WAMIS gauges and every <= 600 m.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Point
from shapely.ops import substring

# code, English name, width at upstream/downstream end (m), bank height up/down (m),
# Manning n, bed slope used upstream of the mouth (m/m), riverside path height above bed (m),
# riverside path banks ("both" or "left"/"right" looking downstream)
STREAMS = {
    "중랑천": dict(
        code="JN",
        name_en="Jungnangcheon",
        width=(45.0, 90.0),
        bank=(7.0, 8.0),
        n=0.035,
        slope=None,
        path_height=2.5,
        banks=("left", "right"),
    ),
    "부용천": dict(
        code="BY",
        name_en="Buyongcheon",
        width=(18.0, 40.0),
        bank=(4.0, 7.5),
        n=0.038,
        slope=1 / 250,
        path_height=2.0,
        banks=("left", "right"),
    ),
    "백석천": dict(
        code="BS",
        name_en="Baekseokcheon",
        width=(12.0, 30.0),
        bank=(3.5, 5.0),
        n=0.040,
        slope=1 / 180,
        path_height=1.5,
        banks=("left", "right"),
    ),
    "회룡천": dict(
        code="HR",
        name_en="Hoeryongcheon",
        width=(10.0, 20.0),
        bank=(3.0, 4.0),
        n=0.045,
        slope=1 / 90,
        path_height=1.2,
        banks=("right",),
    ),
    "호원천": dict(
        code="HW",
        name_en="Howoncheon",
        width=(8.0, 12.0),
        bank=(2.5, 3.0),
        n=0.045,
        slope=1 / 70,
        path_height=1.0,
        banks=("left",),
    ),
    "민락천": dict(
        code="MR",
        name_en="Minrakcheon",
        width=(10.0, 20.0),
        bank=(3.0, 4.0),
        n=0.040,
        slope=1 / 160,
        path_height=1.2,
        banks=("left",),
    ),
}
# Jungnangcheon bed elevation at the northern and southern ends of the traced line, m a.s.l.
JN_BED_NORTH_M = 58.0
JN_BED_SOUTH_M = 32.0
MAX_REACH_M = 600.0
MIN_REACH_M = 120.0


@dataclass
class Stream:
    name: str
    code: str
    line: LineString  # upstream -> downstream, EPSG:5186
    receiving: str | None  # stream it flows into
    mouth_chainage_on_receiving: float | None
    bed_at: callable  # chainage (m from upstream end) -> bed elevation (m a.s.l.)


def _bed_profile(length: float, down_m: float, up_m: float):
    def bed(ch: float) -> float:
        return up_m + (down_m - up_m) * min(max(ch / length, 0.0), 1.0)

    return bed


def build_streams(ref) -> tuple[dict[str, Stream], gpd.GeoDataFrame]:
    """Return streams by name and the reach layer (EPSG:5186)."""
    lines = {row["name"]: row.geometry for _, row in ref.streams.iterrows() if row["name"] in STREAMS}
    streams: dict[str, Stream] = {}
    jn = lines["중랑천"]
    streams["중랑천"] = Stream("중랑천", "JN", jn, None, None, _bed_profile(jn.length, JN_BED_SOUTH_M, JN_BED_NORTH_M))
    # tributaries in order so that the receiving stream is known first
    for name in ("부용천", "백석천", "회룡천", "호원천", "민락천"):
        line = lines[name]
        receiving = "부용천" if name == "민락천" else "중랑천"
        rec = streams[receiving]
        mouth = Point(line.coords[-1])
        ch = rec.line.project(mouth)
        # the traced line may stop short of the receiving centreline: extend it to the confluence
        confluence = rec.line.interpolate(ch)
        if confluence.distance(mouth) > 1.0:
            line = LineString(list(line.coords) + [(confluence.x, confluence.y)])
        bed_mouth = rec.bed_at(ch)
        spec = STREAMS[name]
        streams[name] = Stream(
            name,
            spec["code"],
            line,
            receiving,
            ch,
            _bed_profile(line.length, bed_mouth, bed_mouth + spec["slope"] * line.length),
        )

    cuts: dict[str, list[float]] = {n: [0.0, s.line.length] for n, s in streams.items()}
    for s in streams.values():
        if s.receiving:
            cuts[s.receiving].append(s.mouth_chainage_on_receiving)
    for _, g in ref.gauges[ref.gauges["kind"] == "water_level"].iterrows():
        name = g["river"]
        if name in streams and streams[name].line.distance(g.geometry) < 100:
            cuts[name].append(streams[name].line.project(g.geometry))

    rows = []
    for name, s in streams.items():
        spec = STREAMS[name]
        pts = sorted(set(round(c, 1) for c in cuts[name]))
        # merge cuts closer than MIN_REACH_M, then subdivide long pieces
        merged = [pts[0]]
        for c in pts[1:]:
            if c - merged[-1] < MIN_REACH_M and c != pts[-1]:
                continue
            if c - merged[-1] < MIN_REACH_M and len(merged) > 1:
                merged[-1] = c
            else:
                merged.append(c)
        fine = [merged[0]]
        for a, b in zip(merged[:-1], merged[1:], strict=True):
            k = int(np.ceil((b - a) / MAX_REACH_M))
            fine.extend(a + (b - a) * i / k for i in range(1, k + 1))
        L = s.line.length
        n_reach = len(fine) - 1
        for i in range(n_reach):
            a, b = fine[i], fine[i + 1]
            geom = substring(s.line, a, b)
            mid = (a + b) / 2 / L
            width = spec["width"][0] + (spec["width"][1] - spec["width"][0]) * mid
            bank = spec["bank"][0] + (spec["bank"][1] - spec["bank"][0]) * mid
            up, down = s.bed_at(a), s.bed_at(b)
            rid = f"{s.code}-{i + 1:02d}"
            if i + 1 < n_reach:
                nxt = f"{s.code}-{i + 2:02d}"
            elif s.receiving:
                nxt = ("__mouth__", s.receiving, s.mouth_chainage_on_receiving)
            else:
                nxt = None
            rows.append(
                dict(
                    reach_id=rid,
                    name=name,
                    name_en=spec["name_en"],
                    stream_code=s.code,
                    reach_index=i + 1,
                    chainage_up_m=round(a, 1),
                    chainage_down_m=round(b, 1),
                    downstream_reach_id=nxt,
                    width_m=round(width, 1),
                    bank_height_m=round(bank, 2),
                    bed_elev_up_m=round(up, 2),
                    bed_elev_down_m=round(down, 2),
                    bed_slope=round(max(up - down, 0.0) / max(b - a, 1.0), 5),
                    manning_n=spec["n"],
                    path_height_m=spec["path_height"],
                    approximate=True,
                    geometry=geom,
                )
            )
    # resolve downstream reach of each tributary's last reach: the receiving reach containing the mouth
    for r in rows:
        nxt = r["downstream_reach_id"]
        if isinstance(nxt, tuple):
            _, rec, ch = nxt
            cands = [q for q in rows if q["name"] == rec and q["chainage_up_m"] <= ch + 0.1]
            r["downstream_reach_id"] = max(cands, key=lambda q: q["chainage_up_m"])["reach_id"]
    reaches = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:5186")
    return streams, reaches


def channel_polygons(streams: dict[str, Stream], *, extra_m: float = 0.0) -> shapely.Geometry:
    """Union of the channels (between the bank tops), buffered by ``extra_m``, EPSG:5186."""
    parts = []
    for name, s in streams.items():
        w0, w1 = STREAMS[name]["width"]
        # piecewise buffer so the width grows downstream
        L = s.line.length
        k = max(1, int(L // 300))
        for i in range(k):
            seg = substring(s.line, L * i / k, L * (i + 1) / k)
            w = w0 + (w1 - w0) * (i + 0.5) / k
            parts.append(seg.buffer(w / 2 + extra_m, cap_style="flat"))
    return shapely.union_all(parts)
