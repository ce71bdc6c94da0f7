"""What a CCTV camera sees in the twin: a sector (heading, field of view, range) on the ground,
the people inside it, and a top-down picture of it (PNG). Coordinates are EPSG:5186 metres;
headings are degrees clockwise from north. Buildings do not block the view (an approximation:
there is no 3-D model of the streets).
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from shapely.geometry import Point

from twin.models.viewshed import Viewshed


class Scene:
    """The static part of the picture: roads and buildings near the camera, clipped once."""

    def __init__(self, city, view: Viewshed) -> None:
        self.view = view
        area = Point(view.x, view.y).buffer(view.range * 1.2)
        roads = city.layer("roads")
        near = roads[roads.intersects(area)]
        self.roads = [
            np.asarray(g.coords)[:, :2]
            for g in near.geometry.intersection(area)
            if not g.is_empty and g.geom_type == "LineString"
        ]
        self.paths = [
            np.asarray(g.coords)[:, :2]
            for g, k in zip(near.geometry.intersection(area), near["kind"], strict=True)
            if k in ("riverside_path", "ramp", "stairs") and g.geom_type == "LineString"
        ]
        b = city.layer("buildings")
        nb = b[b.intersects(area)]
        self.buildings = [np.asarray(g.exterior.coords)[:, :2] for g in nb.geometry if g.geom_type == "Polygon"]
        streams = city.layer("streams")
        ns = streams[streams.intersects(area)]
        self.streams = [
            np.asarray(g.coords)[:, :2] for g in ns.geometry.intersection(area) if g.geom_type == "LineString"
        ]

    def png(self, people: list[tuple[float, float, bool]], *, title: str) -> bytes:
        """Top-down picture of the view with ``people`` (x, y, heading to safety) as dots."""
        v = self.view
        fig = Figure(figsize=(4.8, 4.8))
        ax = fig.subplots()
        r = v.range * 1.1
        ax.set_xlim(v.x - r, v.x + r)
        ax.set_ylim(v.y - r, v.y + r)
        ax.set_aspect("equal")
        ax.add_collection(PolyCollection(self.buildings, facecolors="#d9d9d9", edgecolors="#999999", linewidths=0.5))
        ax.add_collection(LineCollection(self.streams, colors="#1f78b4", linewidths=6, alpha=0.6))
        ax.add_collection(LineCollection(self.roads, colors="#888888", linewidths=1.0))
        ax.add_collection(LineCollection(self.paths, colors="#17becf", linewidths=2.0))
        sx, sy = v.polygon.exterior.xy
        ax.fill(sx, sy, color="#ffd92f", alpha=0.25)
        ax.plot([v.x], [v.y], marker="^", color="black")
        if people:
            xs, ys, ev = zip(*people, strict=True)
            ax.scatter(xs, ys, s=18, c=["#e7298a" if e else "#252525" for e in ev], zorder=5)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=9)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80, metadata={"Software": None})
        return buf.getvalue()
