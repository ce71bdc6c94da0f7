"""An AI CCTV camera's analytics (the field detector "objects inside"): who stands in its view,
and the inside/clear state it reports, with a change event on each transition. The device fleet's
ONVIF camera and the in-process gate controller both look through it, so they see the same.

Coordinates are EPSG:5186 metres; times are simulated seconds from the scenario start. A camera
under a ``dropout`` fault (it stops reporting) still looks, but reports nothing: its reported
state stays what it was and no change is reported until the fault ends and the state then differs.

Seeing is not detecting: a person in the camera's view (its sector at its current heading, not
hidden by a building, within its detection range, at night within its infrared reach) is detected
at each look with the probability of the DORI level that holds where they stand
(:class:`Detection`). The draw is a hash of the seed, the camera, the person and the time, not a
random stream, so every copy of a camera (the fleet's ONVIF device, the in-process controller)
detects exactly the same people at the same look, whatever else happens in the run.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .camera_optics import DORI_LEVELS
from .faults import FaultSchedule
from .isovist import Occluders
from .viewshed import Viewshed

EVENT = "cctv.objects_inside"  # the event kind of a reported change


@dataclass(frozen=True)
class Detection:
    """Probability that the analytics detect a person at one look, by the DORI level where they
    stand (the scenario's ``devices.camera_detection``; 1.0 everywhere: whoever is seen is
    detected)."""

    detection: float = 1.0
    observation: float = 1.0
    recognition: float = 1.0
    identification: float = 1.0

    @classmethod
    def of(cls, settings) -> Detection:
        """From the scenario's ``camera_detection`` section (or any object with the four levels)."""
        return cls(*(float(getattr(settings, level)) for level in DORI_LEVELS))

    def probabilities(self) -> np.ndarray:
        """The four probabilities, detection first."""
        return np.array([self.detection, self.observation, self.recognition, self.identification])


def uniform_draws(seed: int, device_id: str, people: np.ndarray, t_s: float) -> np.ndarray:
    """One number in [0, 1) per person, a hash (SplitMix64 finaliser) of the seed, the camera, the
    person's id and the time in ms: the same arguments always give the same numbers."""
    base = (int(seed) & 0xFFFFFFFF) << 32 | zlib.crc32(device_id.encode("utf-8"))
    z = np.asarray(people, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    z ^= np.uint64(base & 0xFFFFFFFFFFFFFFFF) ^ np.uint64(int(round(t_s * 1000)) & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@dataclass(frozen=True)
class Sighting:
    """What a camera saw at ``t_s``: ``seen`` marks which of the positions it was given lie in its
    view; ``inside`` is whether anyone does, ``people`` how many; ``changed`` is true when the
    reported state changed at this look (an event is due)."""

    t_s: float
    seen: np.ndarray  # bool, one per position looked at: detected
    inside: bool
    people: int
    changed: bool


class CameraModel:
    """A camera ``device_id`` watching ``view``, reporting under the analytics rule ``rule``
    (``Zone-{what it watches}``). ``inside`` is the state it last reported (False at the start)."""

    def __init__(
        self,
        device_id: str,
        view: Viewshed,
        *,
        rule: str,
        faults: FaultSchedule | None = None,
        detection: Detection | None = None,
        seed: int = 0,
        night: Callable[[float], bool] | None = None,
    ) -> None:
        self.device_id = str(device_id)
        self.view = view
        self.rule = rule
        self.faults = faults if faults is not None else FaultSchedule()
        self.detection = detection if detection is not None else Detection()
        self.seed = int(seed)
        self.night = night
        self.inside = False

    @classmethod
    def of_camera(
        cls,
        device_id: str,
        x: float,
        y: float,
        row,
        *,
        faults: FaultSchedule | None = None,
        occluders: Occluders | None = None,
        detection: Detection | None = None,
        seed: int = 0,
        night: Callable[[float], bool] | None = None,
    ) -> CameraModel:
        """The camera of a dataset ``cctv`` row (a dict or a pandas row) at (x, y), EPSG:5186: its
        view (:meth:`Viewshed.of_camera`, hidden by ``occluders`` when given), its rule named after
        the access point it ``watches`` (or after itself when it watches none), how surely it
        detects (``detection``, with ``seed``) and when it is night (``night(t_s)``)."""
        watches = row.get("watches")
        rule = f"Zone-{watches}" if isinstance(watches, str) and watches else f"Zone-{device_id}"
        view = Viewshed.of_camera(x, y, row, occluders=occluders)
        return cls(device_id, view, rule=rule, faults=faults, detection=detection, seed=seed, night=night)

    def stopped(self, t_s: float) -> bool:
        """The camera stops reporting at ``t_s`` (a dropout fault)."""
        return self.faults.active(self.device_id, "dropout", t_s) is not None

    def look(self, t_s: float, xs: np.ndarray, ys: np.ndarray, people: np.ndarray | None = None) -> Sighting:
        """Look at the people at (``xs``, ``ys``) (EPSG:5186 m) at ``t_s``, ``people`` their ids
        (default: their positions in the arrays); the reported state follows who is detected unless
        the camera has stopped reporting."""
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        if len(xs):
            night = self.night(t_s) if self.night is not None else False
            level = self.view.levels(xs, ys, t_s=t_s, night=night)
            ids = np.arange(len(xs)) if people is None else np.asarray(people)
            p = np.where(level >= 0, self.detection.probabilities()[np.maximum(level, 0)], 0.0)
            seen = (level >= 0) & (uniform_draws(self.seed, self.device_id, ids, t_s) < p)
        else:
            seen = np.zeros(0, dtype=bool)
        people_n = int(seen.sum())
        inside = people_n > 0
        changed = inside != self.inside and not self.stopped(t_s)
        if changed:
            self.inside = inside
        return Sighting(t_s, seen, inside, people_n, changed)

    def message(self, s: Sighting) -> str:
        """The text of the change event of ``s``."""
        return f"{self.rule}: {'someone inside' if s.inside else 'clear'}"

    def log(self, engine, s: Sighting) -> None:
        """Record the change of ``s`` in ``engine``'s events (``cctv.objects_inside``)."""
        engine.log(EVENT, self.device_id, self.message(s), inside=s.inside, people=s.people)


def camera_models(city, scenario, *, faults: FaultSchedule | None = None, ids=None) -> dict[str, CameraModel]:
    """The cameras of ``city`` (those in ``ids``, default all) as a run of ``scenario`` sees them:
    views hidden by the buildings (unless ``devices.camera_detection.occlusion`` is off), detection
    probabilities from ``devices.camera_detection`` with the scenario's seed, and night from the
    sun at each camera from the scenario's ``start``. Built the same way wherever a run needs its
    cameras, so every copy of a camera sees the same."""
    from datetime import timedelta

    from pyproj import Transformer

    from .daylight import SUNSET_ALTITUDE_DEG, sun_altitude_deg

    cams = city.devices_of_kind("cctv").sort_values("device_id")
    if ids is not None:
        cams = cams[cams["device_id"].isin(list(ids))]
    settings = scenario.devices.camera_detection
    occluders = Occluders.from_polygons(list(city.layer("buildings").geometry)) if settings.occlusion else None
    detection = Detection.of(settings)
    to_wgs = Transformer.from_crs(city.crs, "EPSG:4326", always_xy=True)
    start = scenario.start

    def night_at(lon: float, lat: float) -> Callable[[float], bool]:
        return lambda t_s: sun_altitude_deg(lat, lon, start + timedelta(seconds=float(t_s))) < SUNSET_ALTITUDE_DEG

    out = {}
    for _, c in cams.iterrows():
        lon, lat = to_wgs.transform(c.geometry.x, c.geometry.y)
        out[c["device_id"]] = CameraModel.of_camera(
            c["device_id"], c.geometry.x, c.geometry.y, c, faults=faults, occluders=occluders, detection=detection,
            seed=scenario.seed, night=night_at(lon, lat),
        )  # fmt: skip
    return out
