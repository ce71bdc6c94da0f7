"""What each camera sees of the walk network: its occluded view (buildings block it) and, for every
sample of the network inside that view, the most demanding DORI level that holds there.

A camera's view is the isovist from its position over its lens's field of view (a PTZ camera:
over its whole tour, so a place counts as seen if the tour passes over it) out to its detection
range; the DORI level at a sample follows from the ground distance by
:meth:`~twin.models.camera_optics.CameraSpec.ground_ranges_m` (at night capped by the infrared
reach). Views are cached by content: the buildings' geometry, the camera's values and the twin's
code. Coordinates EPSG:5186 m.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import Polygon

from ..cache import cached, fingerprint
from ..city import CityModel
from ..models.camera_optics import DORI_LEVELS, CameraSpec
from ..models.isovist import Occluders, isovist
from .demand import Demand


@dataclass(frozen=True)
class CameraView:
    """A camera's view: its ``spec``, the ``polygon`` it sees (EPSG:5186, empty when nothing), the
    ground range of each DORI level (m), and the samples of the network it sees (``samples``, rows
    of the :class:`~twin.coverage.demand.Demand`) with the level at each (``levels``, 0 =
    detection … 3 = identification)."""

    spec: CameraSpec
    polygon: Polygon
    ranges_m: dict[str, float]
    samples: np.ndarray
    levels: np.ndarray


def cameras_of_city(city: CityModel) -> list[CameraSpec]:
    """The dataset's cameras (devices of kind ``cctv``), sorted by device_id."""
    cams = city.devices_of_kind("cctv")
    if cams.empty:
        return []
    cams = cams.sort_values("device_id")
    return [CameraSpec.of_row(r["device_id"], r.geometry.x, r.geometry.y, r) for _, r in cams.iterrows()]


def occluders_of_city(city: CityModel) -> Occluders:
    """The city's buildings as walls that block a view."""
    return Occluders.from_polygons(list(city.layer("buildings").geometry))


def buildings_key(city: CityModel) -> str:
    """A digest of the buildings' geometry (the content a view depends on)."""
    geoms = city.layer("buildings").geometry.to_numpy()
    return fingerprint(*shapely.to_wkb(geoms, hex=False, output_dimension=2).tolist())


def view_polygons(
    specs: Sequence[CameraSpec],
    occluders: Occluders,
    *,
    night: bool = False,
    full_circle: bool = False,
    content_key: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Polygon]:
    """The occluded view polygon of each camera (EPSG:5186), over its tour (``full_circle``: all
    around it, as if it could turn any way), cached under ``content_key`` (the buildings' digest,
    :func:`buildings_key`) when given. ``progress(n)`` is called as cameras are done."""

    def fov(spec: CameraSpec) -> float:
        return 360.0 if full_circle else spec.tour_fov_deg

    def build() -> list[Polygon]:
        out = []
        for spec in specs:
            reach = spec.ground_ranges_m(night=night)["detection"]
            if reach <= 0:
                out.append(Polygon())
            else:
                out.append(
                    isovist(spec.x, spec.y, occluders, heading_deg=spec.heading_deg, fov_deg=fov(spec), range_m=reach)
                )
            if progress is not None:
                progress(1)
        return out

    if content_key is None:
        return build()
    key = fingerprint(content_key, repr([astuple(s) for s in specs]), str(night), str(full_circle))
    polys = cached("viewsheds", key, build)
    if progress is not None and polys:
        progress(0)
    return polys


def camera_views(
    specs: Sequence[CameraSpec],
    polygons: Sequence[Polygon],
    demand: Demand,
    *,
    night: bool = False,
    tree: cKDTree | None = None,
) -> list[CameraView]:
    """Each camera's view with the samples of ``demand`` it sees and the DORI level at each."""
    tree = tree if tree is not None else cKDTree(np.column_stack([demand.x, demand.y]))
    views = []
    for spec, poly in zip(specs, polygons, strict=True):
        ranges = spec.ground_ranges_m(night=night)
        if poly.is_empty:
            views.append(CameraView(spec, poly, ranges, np.zeros(0, np.int64), np.zeros(0, np.int8)))
            continue
        near = np.array(sorted(tree.query_ball_point((spec.x, spec.y), ranges["detection"] + 1e-6)), dtype=np.int64)
        inside = shapely.contains_xy(poly, demand.x[near], demand.y[near]) if len(near) else np.zeros(0, bool)
        idx = near[inside]
        d = np.hypot(demand.x[idx] - spec.x, demand.y[idx] - spec.y)
        levels = sum((d <= ranges[lv]).astype(np.int8) for lv in DORI_LEVELS) - 1
        keep = levels >= 0
        views.append(CameraView(spec, poly, ranges, idx[keep], levels[keep].astype(np.int8)))
    return views


def level_counts(views: Sequence[CameraView], n_samples: int) -> np.ndarray:
    """How many cameras see each sample at each DORI level or better: an int array (sample ×
    level), level 0 = detection."""
    counts = np.zeros((n_samples, len(DORI_LEVELS)), dtype=np.int32)
    for v in views:
        for lv in range(len(DORI_LEVELS)):
            np.add.at(counts[:, lv], v.samples[v.levels >= lv], 1)
    return counts
