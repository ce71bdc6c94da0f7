"""Facilities: real positions from the reference data; a few public buildings placed approximately.

Positions not in the reference data are marked ``approximate`` with ``position_source`` saying
how they were found (an address interpolated along its road's address points, or a general
map position that must be verified).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from pyproj import Transformer
from shapely.geometry import Point

from .names import romanize_facility

_TO_5186 = Transformer.from_crs("EPSG:4326", "EPSG:5186", always_xy=True)

# Seoul Metro line 1 stations in the city: positions from general map knowledge, unverified.
LINE1 = [
    ("의정부역", "Uijeongbu Station", 127.04596, 37.73842),
    ("회룡역", "Hoeryong Station", 127.04690, 37.72485),
    ("가능역", "Ganeung Station", 127.04421, 37.74858),
    ("녹양역", "Nogyang Station", 127.04245, 37.75913),
    ("망월사역", "Mangwolsa Station", 127.04746, 37.70991),
]
LRT_EN = {
    "발곡": "Balgok",
    "회룡": "Hoeryong",
    "범골": "Beomgol",
    "경전철의정부": "Uijeongbu City Hall LRT",
    "의정부시청": "Uijeongbu City Hall",
    "흥선": "Heungseon",
    "의정부중앙": "Uijeongbu Jungang",
    "동오": "Dongo",
    "새말": "Saemal",
    "경기도청북부청사": "Gyeonggi Provincial Government North Office",
    "효자": "Hyoja",
    "곤제": "Gonje",
    "어룡(용현산업단지)": "Eoryong (Yonghyeon Industrial Complex)",
    "송산": "Songsan",
    "탑석": "Tapseok",
}
LRT_EN["경전철의정부"] = "Uijeongbu (U-Line)"


def _pt(lon: float, lat: float) -> Point:
    return Point(*_TO_5186.transform(lon, lat))


def interpolate_address(addr: gpd.GeoDataFrame, road: str, number: float) -> Point:
    """Position of building ``number`` on ``road`` from the road's address points (EPSG:5186).

    Linear in building number between the two bracketing points (about 10 m per number),
    extrapolated from the nearest two when outside them.
    """
    pts = addr[addr["road"] == road].drop_duplicates("building_no").sort_values("building_no")
    nums = pts["building_no"].to_numpy(float)
    xs, ys = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    if len(nums) == 1:
        return Point(xs[0], ys[0])
    i = int(np.clip(np.searchsorted(nums, number) - 1, 0, len(nums) - 2))
    t = (number - nums[i]) / (nums[i + 1] - nums[i])
    return Point(xs[i] + t * (xs[i + 1] - xs[i]), ys[i] + t * (ys[i + 1] - ys[i]))


def build_facilities(ref) -> gpd.GeoDataFrame:
    rows = []

    def add(fid, kind, name, name_en, geom, source, approximate, **extra):
        rows.append(
            dict(
                facility_id=fid,
                kind=kind,
                name=name,
                name_en=name_en,
                position_source=source,
                approximate=approximate,
                geometry=geom,
                **extra,
            )
        )

    ch = ref.shelters[ref.shelters["name"].str.startswith("의정부시청")].iloc[0]
    add(
        "F-CITYHALL",
        "city_hall",
        "의정부시청",
        "Uijeongbu City Hall",
        ch.geometry,
        "civil-defense-shelters (시민로 1)",
        False,
        address="경기도 의정부시 시민로 1",
    )
    for i, (name, en, lon, lat) in enumerate(LINE1, 1):
        add(
            f"F-RAIL-{i:02d}",
            "railway_station",
            name,
            en,
            _pt(lon, lat),
            "approximate: general map position, not in the reference data; verify",
            True,
            line="수도권 전철 1호선",
        )
    for i, r in ref.lrt.reset_index(drop=True).iterrows():
        src = "uijeongbu-lrt (국가철도공단 2024-10-15)"
        if r["lat_corrected"]:
            src += "; latitude corrected from the source typo 37.275361 to 37.7248"
        add(
            f"F-LRT-{i + 1:02d}",
            "lrt_station",
            f"{r['station']}역",
            f"{LRT_EN[r['station']]} Station",
            r.geometry,
            src,
            bool(r["lat_corrected"]),
            line="의정부경전철 U-Line",
        )
    for _, r in ref.schools.sort_values("school_id").iterrows():
        add(
            f"F-SCH-{r['school_id']}",
            "school",
            r["name"],
            romanize_facility(r["name"]),
            r.geometry,
            "schools-location (전국초중등학교위치표준데이터 2025-03-25)",
            False,
            school_level=r["level"],
            founded=r["founded"],
            address=r["addr_road"],
        )
    for i, r in ref.cpz.reset_index(drop=True).iterrows():
        add(
            f"F-CPZ-{i + 1:03d}",
            "child_protection_zone",
            f"{r['facility_name']} 어린이보호구역",
            f"{romanize_facility(r['facility_name'])} Children's Protection Zone",
            r.geometry,
            "child-protection-zones (전국어린이보호구역표준데이터 2025-06-30)",
            False,
            protected_facility=r["facility_name"],
            facility_type=r["facility_type"],
            cctv_count=int(r["cctv_count"]) if r["cctv_count"] == r["cctv_count"] else 0,
            road_width=str(r["road_width"]),
            address=r["addr_road"],
        )
    for _, r in ref.shelters.sort_values("src_no").iterrows():
        add(
            f"F-SHL-{int(r['src_no'])}",
            "shelter",
            r["name"],
            "Civil-defence shelter",
            r.geometry,
            "civil-defense-shelters (행정안전부 민방위 대피시설, <=2023-11)",
            False,
            address=r["addr_road"],
        )
    addr = ref.address_points
    add(
        "F-WELFARE-SINGOK",
        "welfare_centre",
        "신곡노인종합복지관",
        "Singok Senior Welfare Center",
        interpolate_address(addr, "금신로", 297),
        "approximate: 금신로297번길 38 placed at 금신로 297, interpolated along 금신로 address points",
        True,
        address="경기도 의정부시 금신로297번길 38",
    )
    add(
        "F-HEALTH",
        "health_centre",
        "의정부시 보건소",
        "Uijeongbu Public Health Center",
        interpolate_address(addr, "범골로", 131),
        "approximate: 범골로 131 interpolated along 범골로 address points",
        True,
        address="경기도 의정부시 범골로 131",
    )
    add(
        "F-ARTS",
        "other",
        "의정부예술의전당",
        "Uijeongbu Arts Center",
        interpolate_address(addr, "의정로", 1),
        "approximate: 의정로 1 from the address points",
        True,
        address="경기도 의정부시 의정로 1",
    )
    ganeung = ref.schools[ref.schools["name"] == "가능초등학교"].iloc[0].geometry
    add(
        "F-POLICE",
        "police",
        "의정부경찰서",
        "Uijeongbu Police Station",
        Point(ganeung.x + 120, ganeung.y - 90),
        "approximate: beside 가능초등학교 near 가능역 (research notes); verify",
        True,
    )
    add(
        "F-FIRE",
        "fire_station",
        "의정부소방서",
        "Uijeongbu Fire Station",
        _pt(127.0566, 37.7418),
        "approximate: unverified position in 신곡동; verify",
        True,
    )
    add(
        "F-HOSP-STMARY",
        "hospital",
        "가톨릭대학교 의정부성모병원",
        "Uijeongbu St. Mary's Hospital",
        interpolate_address(addr, "천보로", 271),
        "approximate: 천보로 271 extrapolated along 천보로 address points; verify",
        True,
        address="경기도 의정부시 천보로 271",
    )
    chu = ref.shelters[ref.shelters["name"].str.startswith("추병원")].iloc[0]
    add(
        "F-HOSP-CHU",
        "hospital",
        "추병원",
        "Chu Hospital",
        chu.geometry,
        "civil-defense-shelters (평화로 650)",
        False,
        address="경기도 의정부시 평화로 650",
    )
    add(
        "F-HOSP-EULJI",
        "hospital",
        "의정부을지대학교병원",
        "Uijeongbu Eulji Medical Center",
        _pt(127.0726, 37.7583),
        "approximate: unverified position in 금오동; verify",
        True,
    )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:5186")
