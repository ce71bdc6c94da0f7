"""Field devices and steep-slope zones.

Real: the WAMIS gauges (positions, codes) and the number of CCTV cameras per children's
protection zone. Authored (approximate): the 10 flood-risk access points chosen for gates,
their sensors and signboards, camera poses, the structural sensors, the crosswalks and the
steep-slope zones. HRFCO alert thresholds conflict between public sources and are marked
unverified.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Point

# HRFCO thresholds (관심, 주의, 경계, 심각), m. Unverified: sources conflict (see SOURCE.md).
GAUGE_THRESHOLDS = {
    "1018665": (
        (2.5, 5.1, 6.0, 6.5),
        "2.5/5.1/6.0/6.5 m from an undocumented dashboard; another source gives "
        "관심 2.6 m, 경계 6.0 m. Not verified against HRFCO.",
    ),
    "1018666": (
        (4.4, 5.5, 6.5, 7.0),
        "관심 4.4 m and 경계 6.5 m seen in public code; 주의 5.5 m and 심각 7.0 m "
        "are interpolated/extrapolated here. Not verified against HRFCO.",
    ),
}
GATES_PER_STREAM = {"중랑천": 5, "부용천": 3, "백석천": 2}

# Camera optics (approximate, authored). 2 MP (1920 px wide) is the floor Korean districts set for
# school-zone cameras (Jongno-gu: "200만 화소 이상"; no national minimum found); lenses and IR reach
# are typical data-sheet values of a fixed bullet camera (IR 30 m) and a speed dome (IR 100 m),
# whose preset tour pans over ptz_sweep_deg in ptz_period_s. Day ranges follow from the optics by
# the DORI densities (twin/models/camera_optics.py); at night the IR reach caps them.
GATE_CAMERA = dict(mount_height_m=6.0, fov_deg=90.0, resolution_px=1920, ir_range_m=30.0)
ZONE_FIXED_CAMERA = dict(mount_height_m=5.0, fov_deg=70.0, resolution_px=1920, ir_range_m=30.0)
ZONE_PTZ_CAMERA = dict(
    mount_height_m=6.0, fov_deg=60.0, resolution_px=1920, ir_range_m=100.0, ptz_sweep_deg=180.0, ptz_period_s=60.0
)


def _spread(items: list, k: int) -> list:
    """k items spread evenly over a sorted list."""
    if len(items) <= k:
        return items
    idx = np.round(np.linspace(0, len(items) - 1, k + 2)[1:-1]).astype(int)
    return [items[i] for i in idx]


def build_devices(ref, streams, reaches, roads, access, facilities, buildings, slopes, rng):
    rows = []

    def add(did, kind, geom, name=None, **attrs):
        rows.append(dict(device_id=did, kind=kind, name=name, geometry=geom, **attrs))

    # WAMIS gauges ---------------------------------------------------------------------------
    for _, g in ref.gauges[ref.gauges["in_city"]].sort_values("station_code").iterrows():
        code = g["station_code"]
        if g["kind"] == "water_level":
            th, note = GAUGE_THRESHOLDS[code]
            reach = reaches[reaches["name"] == g["river"]]
            bank = float(reach.loc[reach.distance(g.geometry).idxmin(), "bank_height_m"])
            add(
                f"LS-{code}",
                "level_sensor",
                g.geometry,
                g["name"],
                stream=g["river"],
                station_code=code,
                threshold_attention_m=th[0],
                threshold_caution_m=th[1],
                threshold_alert_m=th[2],
                threshold_serious_m=th[3],
                thresholds_verified=False,
                thresholds_note=note,
                sensor_height_m=round(bank + 1.0, 2),
                source="wamis-stations",
                approximate=False,
            )
        else:
            add(
                f"RG-{code}",
                "rain_gauge",
                g.geometry,
                g["name"],
                station_code=code,
                resolution_mm=0.5,
                source="wamis-stations",
                approximate=False,
            )

    # gates at 10 flood-risk access points ----------------------------------------------------
    gate_rows = []
    n = 0
    for stream, k in GATES_PER_STREAM.items():
        cands = access[(access["stream"] == stream)].sort_values(["chainage_m", "access_id"])
        chosen = _spread(list(cands.itertuples()), k)
        for ap in chosen:
            n += 1
            gid = f"G{n:02d}"
            ramp = roads[roads.get("access_id").eq(ap.access_id)].iloc[0].geometry
            top = Point(ramp.coords[-1])
            reach = reaches[reaches["name"] == stream]
            bank = float(reach.loc[reach.distance(ap.geometry).idxmin(), "bank_height_m"])
            ph = ap.path_height_m
            access.loc[access["access_id"] == ap.access_id, "gate_id"] = gid
            add(
                gid,
                "gate",
                top,
                f"{stream} {ap.access_id} 진출입로 차단시설",
                access_id=ap.access_id,
                level_sensor_id=f"LS-{gid}",
                rain_gauge_id=f"RG-{gid}",
                travel_time_s=20.0,
                approximate=True,
                source="authored: access point chosen as flood-risk point",
            )
            add(
                f"LS-{gid}",
                "level_sensor",
                ap.geometry,
                f"{stream} {gid} 수위계",
                stream=stream,
                access_id=ap.access_id,
                threshold_attention_m=round(ph - 1.0, 2),
                threshold_caution_m=round(ph - 0.5, 2),
                threshold_alert_m=round(ph, 2),
                threshold_serious_m=round(bank - 1.0, 2),
                thresholds_verified=False,
                thresholds_note="derived: 경계 = riverside path height above bed; 관심/주의 1.0/0.5 m below; "
                "심각 1 m below bank top",
                sensor_height_m=round(bank + 1.0, 2),
                approximate=True,
                source="authored",
            )
            add(
                f"RG-{gid}",
                "rain_gauge",
                Point(top.x + 3, top.y + 3),
                f"{stream} {gid} 강우계",
                resolution_mm=0.5,
                approximate=True,
                source="authored",
            )
            add(
                f"SB-{gid}",
                "signboard",
                Point(top.x - 4, top.y + 2),
                f"{stream} {gid} 재해문자전광판",
                lines=2,
                chars_per_line=12,
                access_id=ap.access_id,
                approximate=True,
                source="authored",
            )
            heading = _heading(top, ap.geometry)
            add(
                f"CAM-{gid}",
                "cctv",
                Point(top.x + 2, top.y - 3),
                f"{stream} {gid} AI CCTV",
                **GATE_CAMERA,
                heading_deg=heading,
                watches=ap.access_id,
                approximate=True,
                source="authored",
            )
            gate_rows.append(gid)
    # city-centre signboards
    for fid in ("F-CITYHALL", "F-RAIL-01", "F-RAIL-02", "F-LRT-07", "F-WELFARE-SINGOK"):
        f = facilities[facilities["facility_id"] == fid].iloc[0]
        add(
            f"SB-{fid[2:]}",
            "signboard",
            Point(f.geometry.x + 10, f.geometry.y + 10),
            f"{f['name']} 재해문자전광판",
            lines=3,
            chars_per_line=16,
            approximate=True,
            source="authored",
        )

    # CCTV of the children's protection zones: as many as the zone data counts -----------------
    cpz = facilities[facilities["kind"] == "child_protection_zone"].sort_values("facility_id")
    for _, z in cpz.iterrows():
        m = int(z["cctv_count"])
        for j in range(m):
            heading = (j * 360.0 / max(m, 1) + float(rng.uniform(0, 40))) % 360
            d = 25.0
            x = z.geometry.x + d * math.sin(math.radians(heading + 180))
            y = z.geometry.y + d * math.cos(math.radians(heading + 180))
            ptz = j == 0  # the zone's first camera is its rotating one (회전형), the others fixed (고정형)
            add(
                f"CAM-{z['facility_id'][2:]}-{j + 1}",
                "cctv",
                Point(x, y),
                f"{z['protected_facility']} 어린이보호구역 CCTV",
                **(ZONE_PTZ_CAMERA if ptz else ZONE_FIXED_CAMERA),
                heading_deg=round(heading, 1),
                zone_id=z["facility_id"],
                approximate=True,
                source="count from child-protection-zones; pose authored",
            )

    # structural sensors on old buildings and on slopes ---------------------------------------
    old = buildings[buildings["name"].notna()].sort_values(["year_built", "building_id"])  # monitoring.py

    def structural(host_id: str, label: str, layer: str, c: Point, crack_offset_m: float) -> None:
        """A tilt sensor at ``c`` and a crack sensor ``crack_offset_m`` m east (and north, on slopes) of it."""
        dy = crack_offset_m if layer == "slopes" else 0.0
        for prefix, kind, what, p in (
            ("TILT", "tilt_sensor", "기울기", c),
            ("CRACK", "crack_sensor", "균열", Point(c.x + crack_offset_m, c.y + dy)),
        ):
            add(f"{prefix}-{host_id}", kind, p, f"{label} {what} 센서", host_id=host_id, host_layer=layer,
                approximate=True, source="authored")  # fmt: skip

    for _, b in old.iterrows():
        structural(b["building_id"], b["name"], "buildings", b.geometry.representative_point(), 1.0)
    for _, s in slopes.sort_values("slope_id").iterrows():
        structural(s["slope_id"], s["name"], "slopes", s.geometry.representative_point(), 2.0)
        if s["risk_grade"] == "D":  # a collapse-risk slope also gets a wire extensometer across its crown
            c = s.geometry.centroid
            up = math.radians(float(s["downhill_deg"]) + 180.0)
            crown = Point(c.x + 20.0 * math.sin(up), c.y + 20.0 * math.cos(up))
            add(f"EXT-{s['slope_id']}", "extensometer", crown, f"{s['name']} 신축계", host_id=s["slope_id"],
                host_layer="slopes", approximate=True, source="authored")  # fmt: skip

    # IoT crosswalks at the two school zones ----------------------------------------------------
    street = roads[roads["kind"] == "road"]
    for school in ("가능초등학교", "의정부효자초등학교"):
        f = facilities[(facilities["kind"] == "school") & (facilities["name"] == school)].iloc[0]
        near = street.distance(f.geometry).sort_values(kind="stable").index[:6]
        used = []
        for idx in near:
            e = street.loc[idx]
            p = e.geometry.interpolate(0.5, normalized=True)
            if any(p.distance(u) < 40 for u in used):
                continue
            used.append(p)
            k = len(used)
            add(
                f"XW-{f['facility_id'][6:]}-{k}",
                "crosswalk",
                p,
                f"{school} 스마트 횡단보도 {k}",
                school_id=f["facility_id"],
                edge_id=e["edge_id"],
                approximate=True,
                source="authored",
            )
            if k == 2:
                break
    dev = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:5186")
    return dev


def _heading(frm: Point, to: Point) -> float:
    return round(math.degrees(math.atan2(to.x - frm.x, to.y - frm.y)) % 360, 1)


def build_slopes(area, city_poly, channels, dongs, rng, n: int = 24) -> gpd.GeoDataFrame:
    """Steep-slope zones at the edge of the developed area where it meets the hills (approximate)."""
    edge = area.boundary
    inner = city_poly.buffer(-150)
    L = edge.length
    rows = []
    k = 0
    for t in np.linspace(0, L, 400, endpoint=False):
        p = edge.interpolate(t)
        if not inner.contains(p) or p.distance(channels) < 400:
            continue
        if any(p.distance(r["geometry"].centroid) < 1200 for r in rows):
            continue
        q = edge.interpolate(t + 30)
        ang = math.degrees(math.atan2(q.y - p.y, q.x - p.x))
        poly = shapely.affinity.rotate(shapely.geometry.box(p.x - 70, p.y - 25, p.x + 70, p.y + 25), ang, origin=p)
        k += 1
        dong = next((d["name"] for _, d in dongs.iterrows() if d.geometry.contains(p)), "")
        rows.append(
            dict(
                slope_id=f"SLP-{k:02d}",
                name=f"{dong} 급경사지 {k}",
                dong=dong,
                slope_deg=round(float(rng.uniform(30, 50)), 1),
                height_m=round(float(rng.uniform(5, 25)), 1),
                risk_grade=str(rng.choice(["B", "C", "D"])),
                approximate=True,
                geometry=poly,
            )
        )
        if k >= n:
            break
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:5186")
