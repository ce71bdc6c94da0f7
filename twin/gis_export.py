"""Export a city model for desktop GIS (QGIS, ArcGIS)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from .atomic import atomic_file
from .city import CityModel


def export_gpkg(city: CityModel, out: str | Path) -> dict[str, int]:
    """Write every non-empty layer of ``city`` and the walk-graph nodes into one GeoPackage, atomically.

    Layers keep the working CRS (EPSG:5186, metres), which QGIS reads natively. Adds a
    ``walk_nodes`` point layer (node id, degree). Returns layer name -> feature count.
    """
    counts: dict[str, int] = {}
    with atomic_file(out, suffix=".gpkg") as tmp:
        for name, gdf in city.layers.items():
            if len(gdf) == 0:
                continue  # a GeoPackage layer needs a geometry type, which an empty layer lacks
            # GeoPackage reserves the column name "fid" for its own primary key
            clash = {c: f"{c}_src" for c in gdf.columns if c.lower() == "fid"}
            pyogrio.write_dataframe(gdf.rename(columns=clash), tmp, layer=name, driver="GPKG")
            counts[name] = len(gdf)
        G = city.graph
        nodes = sorted(G.nodes)
        gdf = gpd.GeoDataFrame(
            {"node_id": nodes, "degree": [G.degree(n) for n in nodes]},
            geometry=gpd.points_from_xy([G.nodes[n]["x"] for n in nodes], [G.nodes[n]["y"] for n in nodes]),
            crs=city.crs,
        )
        pyogrio.write_dataframe(gdf, tmp, layer="walk_nodes", driver="GPKG")
        counts["walk_nodes"] = len(gdf)
    return counts
