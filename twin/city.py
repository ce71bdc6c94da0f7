"""The city model: every GIS layer of a dataset in EPSG:5186 plus the walk graph.

>>> city = load_city()                      # the shipped Uijeongbu dataset
>>> city.layers["roads"].crs.to_epsg()
5186
>>> node = city.nearest_node(204_900.0, 571_400.0)   # x, y in EPSG:5186 metres
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
from pyproj import Transformer
from scipy.spatial import cKDTree

from ._validate import read_dataset
from .dataset_schema import LAYERS, WORKING_CRS
from .errors import DatasetError, GraphError
from .resources import default_dataset
from .river_gauges import RiverGauges, read_river_gauges
from .surveillance import Surveillance, read_surveillance
from .walk_graph import components_by_size


def default_dataset_path() -> Path:
    """Path of the shipped Uijeongbu dataset (:func:`twin.resources.default_dataset`). Raises
    DatasetError when it is not installed."""
    return default_dataset()


def __getattr__(name: str) -> Any:
    """``DEFAULT_DATASET``: the shipped Uijeongbu dataset's folder, found when asked for (in a source
    checkout, an editable install or an installed wheel alike), so importing this module never
    fails on a broken install."""
    if name == "DEFAULT_DATASET":
        return default_dataset()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


DERIVED_LIMIT = 8
"""How many derived results a :class:`CityModel` keeps (a sweep varying a hydraulic parameter makes many)."""


@dataclass
class CityModel:
    """A loaded, validated city.

    ``layers``: layer name -> GeoDataFrame in EPSG:5186 (metres), indexed 0..n-1, with the layer's
    id column. ``graph``: undirected networkx MultiGraph of walkable links (see
    :func:`twin.walk_graph.walk_graph`; node ``x``/``y`` in EPSG:5186 metres, edge ``length_m``,
    ``width_m``, ``kind``). ``manifest``: the dataset's manifest.json as a dict.
    """

    path: Path
    manifest: dict[str, Any]
    layers: dict[str, gpd.GeoDataFrame]
    graph: nx.MultiGraph
    fingerprint: str | None = None
    """Digest of the dataset's files (set when loaded through the cache)."""
    warnings: list = field(default_factory=list)
    """Values outside the range where the models are valid (:class:`~twin.errors.Problem`, one line each)."""
    derived: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    """Results derived from this city and a few parameters (the channel network and catchments, the
    spun-up hydraulic state), kept as long as the city is: a sweep's worker builds them once for
    all its members (at most :data:`DERIVED_LIMIT`, the oldest dropped first)."""
    _tree: cKDTree | None = field(default=None, repr=False)
    _tree_nodes: np.ndarray | None = field(default=None, repr=False)

    @property
    def crs(self) -> str:
        """The working CRS of every layer and of the graph (``"EPSG:5186"``)."""
        return WORKING_CRS

    @property
    def river_gauges(self) -> RiverGauges:
        """Which level gauge warns for which stream, the key gauge and the upstream basins: the
        manifest's ``hydrology`` (see :mod:`twin.river_gauges`; checked when the dataset was loaded)."""
        return read_river_gauges(self.manifest, self.layers.get("streams"), self.layers.get("devices"), [])

    @property
    def surveillance(self) -> Surveillance:
        """What the city's cameras must watch: zone reaches, watched streets and placement
        priorities, the manifest's ``surveillance`` (see :mod:`twin.surveillance`)."""
        return read_surveillance(self.manifest, [])

    @property
    def reference_year(self) -> int:
        """The year the dataset describes (manifest ``reference_year``); ages count from it."""
        return int(self.manifest.get("reference_year", 2026))

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """One layer by name; an empty GeoDataFrame for an optional layer the dataset lacks."""
        if name not in LAYERS:
            raise KeyError(f"unknown layer {name!r}; layers are {', '.join(LAYERS)}")
        if name in self.layers:
            return self.layers[name]
        return gpd.GeoDataFrame({LAYERS[name].id_column: []}, geometry=[], crs=WORKING_CRS)

    def nearest_node(self, x: float, y: float, *, max_distance_m: float | None = None) -> int:
        """Id of the walk-graph node nearest to (x, y) in EPSG:5186 metres, main component only.

        Raises GraphError if the nearest node is farther than ``max_distance_m``.
        """
        node, dist = self.nearest_nodes(np.array([[x, y]], dtype=float))
        if max_distance_m is not None and dist[0] > max_distance_m:
            raise GraphError(
                f"no walk-graph node within {max_distance_m} m of ({x:.1f}, {y:.1f}); nearest is {dist[0]:.1f} m"
            )
        return int(node[0])

    def nearest_nodes(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest main-component node for each row of ``xy`` (EPSG:5186 metres): (ids, distances in m)."""
        if self._tree is None or self._tree_nodes is None:  # built together, on first use
            if self.graph.number_of_nodes() == 0:
                raise GraphError("the walk graph is empty")
            main = sorted(components_by_size(self.graph)[0])
            self._tree_nodes = np.array(main)
            self._tree = cKDTree([(self.graph.nodes[n]["x"], self.graph.nodes[n]["y"]) for n in main])
        dist, idx = self._tree.query(np.asarray(xy, dtype=float).reshape(-1, 2))
        return self._tree_nodes[idx], dist

    def devices_of_kind(self, kind: str) -> gpd.GeoDataFrame:
        """Devices of one kind (``level_sensor``, ``gate``, ``cctv``, ...), in EPSG:5186."""
        from .dataset_schema import DEVICE_KINDS

        if kind not in DEVICE_KINDS:
            raise KeyError(f"unknown device kind {kind!r}; kinds are {', '.join(DEVICE_KINDS)}")
        dev = self.layer("devices")
        return dev[dev["kind"] == kind] if len(dev) else dev

    def facilities_of_kind(self, kind: str) -> gpd.GeoDataFrame:
        """Facilities of one kind (``school``, ``shelter``, ...), in EPSG:5186."""
        fac = self.layer("facilities")
        return fac[fac["kind"] == kind] if len(fac) else fac

    def buildings_older_than(self, years: int, *, as_of_year: int | None = None) -> gpd.GeoDataFrame:
        """Buildings at least ``years`` old in ``as_of_year`` (default: the dataset's reference year).

        A building built in ``as_of_year - years`` counts (30 years old in 2026 means built <= 1996).
        Buildings with unknown year are excluded.
        """
        year = self.reference_year if as_of_year is None else as_of_year
        b = self.layer("buildings")
        if len(b) == 0:
            return b
        built = b["year_built"]
        return b[built.notna() & (built <= year - years)]

    def info(self) -> dict[str, Any]:
        """Summary used by ``twin gis info --json`` (documented in docs/gis_info.md)."""
        devices = self.layer("devices")
        kinds = Counter(devices["kind"]) if len(devices) else Counter()
        boundary = self.layer("boundary")
        streams = self.layer("streams")
        frame = boundary if len(boundary) else self.layer("roads")
        minx, miny, maxx, maxy = frame.total_bounds
        tr = Transformer.from_crs(WORKING_CRS, "EPSG:4326", always_xy=True)
        xs, ys = tr.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
        edge_kinds = Counter(k for _, _, k in self.graph.edges(data="kind"))
        return {
            "name": self.manifest.get("name"),
            "path": str(self.path),
            "schema_version": self.manifest.get("schema_version"),
            "crs": WORKING_CRS,
            "layers": {name: int(len(gdf)) for name, gdf in self.layers.items()},
            "approximate_layers": sorted(
                n for n, e in self.manifest.get("layers", {}).items() if isinstance(e, dict) and e.get("approximate")
            ),
            "devices": dict(sorted((k, int(v)) for k, v in kinds.items())),
            "streams": {"named": int(streams["name"].nunique()) if len(streams) else 0, "reaches": int(len(streams))},
            "graph": {
                "nodes": self.graph.number_of_nodes(),
                "edges": self.graph.number_of_edges(),
                "components": nx.number_connected_components(self.graph),
                "length_km": round(sum(d for _, _, d in self.graph.edges(data="length_m")) / 1000.0, 3),
                "edge_kinds": dict(sorted(edge_kinds.items())),
            },
            "bounds_wgs84": [round(min(xs), 6), round(min(ys), 6), round(max(xs), 6), round(max(ys), 6)],
        }


def validate_city(path: str | Path | None = None) -> list:
    """Every problem of the dataset at ``path`` (default: the shipped one); empty when valid."""
    return read_dataset(default_dataset_path() if path is None else path).problems


def load_city(path: str | Path | None = None, *, cache: bool = True) -> CityModel:
    """Load and validate a dataset directory (default: the shipped Uijeongbu dataset).

    Returns a :class:`CityModel` with layers in EPSG:5186. Raises DatasetError listing every
    problem (layer, feature id, what is wrong) when the dataset is invalid. With ``cache``, a
    dataset already validated with exactly the same bytes is read from :mod:`twin.cache`.
    """
    path = default_dataset_path() if path is None else Path(path)
    if not path.is_dir():
        raise DatasetError(f"{path} is not a directory", dataset=str(path))

    def build() -> CityModel:
        result = read_dataset(path)
        if result.problems:
            raise DatasetError(result.problems, dataset=str(path))
        assert result.graph is not None
        return CityModel(
            path=path, manifest=result.manifest, layers=result.layers, graph=result.graph, warnings=result.warnings
        )

    if not cache:
        city = build()
    else:
        from .cache import cached, dataset_fingerprint

        try:
            key = dataset_fingerprint(path)
        except OSError as exc:
            raise DatasetError(f"{path} cannot be read: {exc}", dataset=str(path)) from None
        city = cached("city", key, build)
        city.fingerprint = key
    city.path = path
    return city
