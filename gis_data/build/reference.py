"""Read ../shared/reference-data into GeoDataFrames in EPSG:5186 (metres).

The reference data is the public data the default dataset is built from (each folder with its
SOURCE.md); it sits beside the repository in the development checkout and is not needed at run
time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from twin.errors import DataImportError

CRS = "EPSG:5186"
FILES = (
    "kostat-southkorea-maps/ujb_city_2018.geojson",
    "kostat-southkorea-maps/ujb_dong_2018.geojson",
    "ngii-streams-traced/ujb_streams_traced.geojson",
    "wamis-stations/ujb_hydro_stations.geojson",
    "mois-flood-trace/ujb_flood_trace_2020_points.geojson",
    "uijeongbu-lrt/uijeongbu_lrt_stations_20241015.csv",
    "schools-location/ujb_schools_2025.csv",
    "child-protection-zones/ujb_child_protection_zones_20250630.csv",
    "civil-defense-shelters/ujb_civil_defense_shelters.csv",
    "gyeonggi-bus-stops/ujb_bus_stops_gg.csv",
    "road-address-points/ujb_road_address_points.csv",
)
"""The files :func:`load_reference` reads, relative to the reference folder."""


@dataclass
class Reference:
    root: Path
    city: gpd.GeoDataFrame
    dongs: gpd.GeoDataFrame
    streams: gpd.GeoDataFrame
    gauges: gpd.GeoDataFrame
    flood_trace: gpd.GeoDataFrame
    lrt: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    cpz: gpd.GeoDataFrame
    shelters: gpd.GeoDataFrame
    bus_stops: gpd.GeoDataFrame
    address_points: gpd.GeoDataFrame


def _points(df: pd.DataFrame, lon: str = "lon", lat: str = "lat") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df[lon], df[lat]), crs="EPSG:4326").to_crs(CRS)


def check_reference(root: Path) -> None:
    """Raise :class:`~twin.errors.DataImportError` (one line, naming the folder and what it must
    hold) when ``root`` is not a folder with every file of :data:`FILES`."""
    root = Path(root)
    expected = (
        "the public reference data (../shared/reference-data in the development checkout: "
        "kostat-southkorea-maps/, ngii-streams-traced/, wamis-stations/, ... with the files the builder "
        "reads); pass --reference DIR"
    )
    if not root.is_dir():
        raise DataImportError(f"reference data not found: {root} is not a folder; expected {expected}")
    missing = [f for f in FILES if not (root / f).is_file()]
    if missing:
        raise DataImportError(
            f"reference data incomplete: {root} lacks {len(missing)} of {len(FILES)} files "
            f"(first: {missing[0]}); expected {expected}"
        )


def load_reference(root: Path) -> Reference:
    """The reference data in ``root`` (see :func:`check_reference`), in EPSG:5186."""
    root = Path(root)
    lrt = pd.read_csv(root / "uijeongbu-lrt" / "uijeongbu_lrt_stations_20241015.csv")
    lrt = lrt.rename(columns={"역명": "station", "경도": "lon", "위도": "lat"})
    # Known typo in the source: 발곡 latitude 37.275361 (the station is at about 37.7248 N).
    lrt["lat_corrected"] = lrt["station"].eq("발곡") & (lrt["lat"] < 37.5)
    lrt.loc[lrt["lat_corrected"], "lat"] = 37.7248
    return Reference(
        root=root,
        city=gpd.read_file(root / "kostat-southkorea-maps" / "ujb_city_2018.geojson").to_crs(CRS),
        dongs=gpd.read_file(root / "kostat-southkorea-maps" / "ujb_dong_2018.geojson").to_crs(CRS),
        streams=gpd.read_file(root / "ngii-streams-traced" / "ujb_streams_traced.geojson").to_crs(CRS),
        gauges=gpd.read_file(root / "wamis-stations" / "ujb_hydro_stations.geojson").to_crs(CRS),
        flood_trace=gpd.read_file(root / "mois-flood-trace" / "ujb_flood_trace_2020_points.geojson").to_crs(CRS),
        lrt=_points(lrt),
        schools=_points(pd.read_csv(root / "schools-location" / "ujb_schools_2025.csv", dtype={"school_id": str})),
        cpz=_points(pd.read_csv(root / "child-protection-zones" / "ujb_child_protection_zones_20250630.csv")),
        shelters=_points(pd.read_csv(root / "civil-defense-shelters" / "ujb_civil_defense_shelters.csv")),
        bus_stops=_points(
            pd.read_csv(
                root / "gyeonggi-bus-stops" / "ujb_bus_stops_gg.csv", dtype={"station_id": str, "station_no": str}
            )
        ),
        address_points=_points(pd.read_csv(root / "road-address-points" / "ujb_road_address_points.csv")),
    )
