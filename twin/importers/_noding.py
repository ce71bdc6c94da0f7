"""Planar noding of line layers: split lines where they cross, so edges meet at shared end points.

The walk graph (:mod:`twin.walk_graph`) joins lines only at shared end points. Road centrelines
from national GIS data cross each other without shared vertices, so importers split them here.
Grade-separated lines (bridges) are the exception: where one crosses another away from both
lines' ends, one passes over the other, so that crossing is not split (the walk graph's rule: a
bridge over a riverside path does not connect to it). Coordinates are in a projected CRS
(metres); tolerances are metres.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point
from shapely.ops import substring

from ..walk_graph import MERGE_DISTANCE_M

SNAP_M = MERGE_DISTANCE_M
"""Tolerance (m) of the walk graph's end-point snapping, used when noding roads."""
MERGE_CUT_M = 1e-3
"""Cuts closer than this along one line (m) are one cut (numerical noise of intersections)."""


def _line_parts(g: Any) -> list[LineString]:
    if g is None or g.is_empty:
        return []
    return [p for p in shapely.get_parts(g) if p.geom_type in ("LineString", "LinearRing") and p.length > 0]


def _intersection_points(g: Any) -> list[tuple[float, float]]:
    """Points where two lines meet: crossing points and the ends of overlapping stretches."""
    pts: list[tuple[float, float]] = []
    for part in shapely.get_parts(g):
        if part.is_empty:
            continue
        if part.geom_type == "Point":
            pts.append((part.x, part.y))
        elif part.geom_type in ("LineString", "LinearRing"):
            cs = part.coords
            pts.extend([tuple(cs[0][:2]), tuple(cs[-1][:2])])
        elif part.geom_type in ("MultiPoint", "MultiLineString", "GeometryCollection"):
            pts.extend(_intersection_points(part))
    return pts


def _end_near(line: LineString, p: tuple[float, float], tol: float) -> tuple[float, float] | None:
    """The end point of ``line`` within ``tol`` metres of ``p``, if any."""
    cs = line.coords
    for end in (cs[0], cs[-1]):
        if math.hypot(end[0] - p[0], end[1] - p[1]) <= tol:
            return (end[0], end[1])
    return None


def _ends(line: LineString) -> tuple[tuple[float, float], tuple[float, float]]:
    cs = line.coords
    return (cs[0][0], cs[0][1]), (cs[-1][0], cs[-1][1])


def node_lines(
    lines: list[LineString], *, tol: float = SNAP_M, separated: Sequence[bool] | None = None
) -> tuple[list[list[LineString]], int]:
    """Split each line where another crosses or touches it; return (pieces per line, cuts made).

    Coordinates in metres. Pieces of different lines that meet share the exact end coordinate.
    A meeting point within ``tol`` (m) of a line's end uses that end point instead (no stub is
    cut off), and a line end that stops within ``tol`` of another line (an undershooting
    T-junction) cuts that line at the end point. ``separated`` flags grade-separated lines
    (bridges, one flag per line): a crossing with one of them joins the two lines only when it
    lies within ``tol`` of an end of either line, i.e. where the source says they meet.
    """
    n = len(lines)
    sep = [False] * n if separated is None else [bool(s) for s in separated]
    cuts: list[list[tuple[float, float]]] = [[] for _ in range(n)]
    if n > 1:
        arr = np.array(lines, dtype=object)
        tree = shapely.STRtree(arr)
        left, right = tree.query(arr, predicate="dwithin", distance=tol)
        keep = left < right
        left, right = left[keep], right[keep]
        inter = shapely.intersection(arr[left], arr[right]) if len(left) else []
        for a, b, g in zip(left.tolist(), right.tolist(), inter, strict=True):
            la, lb = lines[a], lines[b]
            for p in _intersection_points(g):
                ea = _end_near(la, p, tol)
                eb = _end_near(lb, p, tol)
                if ea is None and eb is None and (sep[a] or sep[b]):
                    continue  # one passes over the other
                if ea is None:
                    cuts[a].append(eb if eb is not None else p)
                if eb is None:
                    cuts[b].append(ea if ea is not None else p)
            for this, other, i_other in ((la, lb, b), (lb, la, a)):
                for e in _ends(this):
                    if _end_near(other, e, tol) is None and other.distance(Point(e)) <= tol:
                        cuts[i_other].append(e)
    pieces = []
    ncuts = 0
    for line, cs in zip(lines, cuts, strict=True):
        split = _split_line(line, cs)
        ncuts += len(split) - 1
        pieces.append(split)
    return pieces, ncuts


def split_for_anchors(
    segs: list[LineString], anchors: np.ndarray, max_dist: float
) -> tuple[list[list[LineString]], int]:
    """Give every anchor point (x, y in metres) a line end within ``max_dist`` metres if it can.

    An anchor whose nearest segment end is farther than ``max_dist`` but whose nearest segment
    lies within ``max_dist`` cuts that segment at the point nearest to the anchor. Returns
    (pieces per segment, cuts made).
    """
    out = [[s] for s in segs]
    if not segs or len(anchors) == 0:
        return out, 0
    arr = np.array(segs, dtype=object)
    ends = np.vstack(
        [shapely.get_coordinates(shapely.get_point(arr, 0)), shapely.get_coordinates(shapely.get_point(arr, -1))]
    )
    d_end, _ = cKDTree(ends).query(np.asarray(anchors, dtype=float).reshape(-1, 2))
    tree = shapely.STRtree(arr)
    extra: dict[int, list[tuple[float, float]]] = {}
    for (x, y), de in zip(np.asarray(anchors, dtype=float).reshape(-1, 2), d_end, strict=True):
        if de <= max_dist:
            continue
        p = Point(x, y)
        i = int(tree.nearest(p))
        seg = segs[i]
        if seg.distance(p) > max_dist:
            continue
        q = seg.interpolate(seg.project(p))
        extra.setdefault(i, []).append((q.x, q.y))
    ncuts = 0
    for i, pts in extra.items():
        out[i] = _split_line(segs[i], pts)
        ncuts += len(out[i]) - 1
    return out, ncuts


def _split_line(line: LineString, cut_points: list[tuple[float, float]]) -> list[LineString]:
    """Cut ``line`` at the given points; each piece ends exactly at its cut point."""
    if not cut_points:
        return [line]
    length = line.length
    ds = sorted((line.project(Point(c)), c) for c in cut_points)
    cuts: list[tuple[float, tuple[float, float]]] = []
    for d, c in ds:
        if d <= MERGE_CUT_M or d >= length - MERGE_CUT_M:
            continue
        if cuts and d - cuts[-1][0] <= MERGE_CUT_M:
            continue
        cuts.append((d, c))
    if not cuts:
        return [line]
    start_d: float = 0.0
    start_c: tuple[float, float] | None = None
    out = []
    ends: list[tuple[float, tuple[float, float] | None]] = [*cuts, (length, None)]  # the line's end: not snapped
    for d, end_c in ends:
        piece = substring(line, start_d, d)
        coords = [tuple(xy[:2]) for xy in piece.coords]
        if start_c is not None:
            coords[0] = start_c
        if end_c is not None:
            coords[-1] = end_c
        if len(coords) >= 2:
            seg = LineString(coords)
            if seg.length > 0:
                out.append(seg)
        start_d, start_c = d, end_c
    return out
