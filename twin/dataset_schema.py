"""What a dataset directory must contain: layers, geometry types, id columns and attributes.

A dataset directory holds one GeoJSON file per layer (WGS84, EPSG:4326, as RFC 7946 requires)
and a ``manifest.json``. This module is the single description of that contract; the loader,
the validator, the importers and the docs all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA_VERSION = 1
FILE_CRS = "EPSG:4326"
"""CRS of every layer file (GeoJSON, RFC 7946)."""
WORKING_CRS = "EPSG:5186"
"""CRS of every layer inside the library: Korea 2000 / Central Belt 2010, metres."""
MANIFEST_NAME = "manifest.json"

ROAD_KINDS = ("road", "sidewalk", "riverside_path", "bridge", "ramp", "stairs")
DEVICE_KINDS = (
    "level_sensor",
    "rain_gauge",
    "gate",
    "signboard",
    "cctv",
    "tilt_sensor",
    "crack_sensor",
    "extensometer",
    "crosswalk",
)
FACILITY_KINDS = (
    "city_hall",
    "railway_station",
    "lrt_station",
    "school",
    "child_protection_zone",
    "welfare_centre",
    "health_centre",
    "police",
    "fire_station",
    "shelter",
    "hospital",
    "other",
)
THRESHOLD_LEVELS = ("attention", "caution", "alert", "serious")
"""HRFCO alert levels of a level sensor (관심, 주의, 경계, 심각), lowest first: their thresholds
(``threshold_<level>_m``) must not decrease in this order."""
ELEVATION_RANGE_M = (-100.0, 2000.0)
"""Plausible elevations in Korea, m above sea level (the highest summit, 한라산, is 1,950 m)."""
BED_RISE_TOLERANCE_M = 0.05
"""How much a stream bed may rise downstream (within a reach, or from a reach into the next reach
of the same stream) before it is an error, m: survey noise, not a channel that flows uphill."""
BUILDING_STRUCTURES = ("reinforced_concrete", "masonry", "steel", "wood", "other", "unknown")
ACCESS_KINDS = ("ramp", "stairs")
RIVERSIDE_PATH_KINDS = ("riverside_path", *ACCESS_KINDS)
"""Road kinds whose ``stream`` makes them a stream's riverside paths (the path and the ways down)."""


@dataclass(frozen=True)
class Attr:
    """One attribute of a layer.

    ``dtype`` is one of ``str``, ``int``, ``float``, ``bool``. ``choices`` restricts a ``str``;
    ``min_value`` and ``max_value`` bound a number (inclusive), ``positive`` excludes zero: a value
    outside is an error (physically implausible, or one the models cannot compute with).
    ``valid_range`` (low, high) is where the models are valid: a value outside it is a warning.
    ``nullable`` allows missing values (JSON null).
    """

    name: str
    dtype: str
    nullable: bool = False
    choices: tuple[str, ...] | None = None
    min_value: float | None = None
    positive: bool = False
    doc: str = ""
    max_value: float | None = None
    valid_range: tuple[float, float] | None = None


@dataclass(frozen=True)
class LayerSpec:
    """The contract of one layer: geometry types, id column, required attributes."""

    name: str
    geometry: tuple[str, ...]
    id_column: str
    attrs: tuple[Attr, ...]
    required: bool = True
    may_be_empty: bool = False
    doc: str = ""
    kind_attrs: dict[str, tuple[Attr, ...]] = field(default_factory=dict)
    """For layers with a ``kind`` column: attributes required only for features of that kind."""
    optional_attrs: tuple[Attr, ...] = ()
    """Attributes a dataset may leave out: checked like the others when the column is there; the
    models use documented defaults when it is not (or the value is null)."""


SLOPE_SOIL_ATTRS: tuple[Attr, ...] = (
    Attr("height_m", "float", nullable=True, positive=True, max_value=500.0, doc="height of the slope, m"),
    Attr(
        "risk_grade",
        "str",
        nullable=True,
        choices=("A", "B", "C", "D", "E"),
        doc="재해위험도 grade, A (safe) to E (emergency measures); D: a collapse-risk zone",
    ),
    Attr(
        "downhill_deg",
        "float",
        nullable=True,
        min_value=0.0,
        max_value=360.0,
        doc="direction the slope falls toward, degrees clockwise from north",
    ),
    Attr("runout_m", "float", nullable=True, min_value=0.0, max_value=2000.0, doc="danger zone beyond the toe, m"),
    Attr(
        "soil_depth_m",
        "float",
        nullable=True,
        positive=True,
        max_value=50.0,
        valid_range=(0.3, 10.0),
        doc="depth of the soil over the failure plane (TRIGRS Z), m",
    ),
    Attr(
        "water_table_depth_m",
        "float",
        nullable=True,
        min_value=0.0,
        max_value=50.0,
        doc="initial depth of the water table below the surface (TRIGRS d), m",
    ),
    Attr(
        "cohesion_kpa",
        "float",
        nullable=True,
        min_value=0.0,
        max_value=500.0,
        valid_range=(0.0, 50.0),
        doc="effective cohesion with roots, kPa",
    ),  # fmt: skip
    Attr(
        "friction_deg",
        "float",
        nullable=True,
        positive=True,
        max_value=89.0,
        valid_range=(15.0, 50.0),
        doc="effective friction angle, degrees",
    ),  # fmt: skip
    Attr(
        "unit_weight_kn_m3",
        "float",
        nullable=True,
        positive=True,
        max_value=40.0,
        valid_range=(12.0, 25.0),
        doc="unit weight of the soil, kN/m3",
    ),  # fmt: skip
    Attr(
        "diffusivity_m2_s",
        "float",
        nullable=True,
        positive=True,
        max_value=1.0,
        valid_range=(1e-8, 1e-2),
        doc="saturated hydraulic diffusivity D0, m2/s",
    ),  # fmt: skip
    Attr(
        "ks_m_s",
        "float",
        nullable=True,
        positive=True,
        max_value=1.0,
        valid_range=(1e-9, 1e-2),
        doc="saturated hydraulic conductivity, m/s (rain beyond it runs off)",
    ),  # fmt: skip
)
"""What the slope-stability model reads of a slope (twin/models/slope_stability.py); any may be
left out, and the model then takes its documented defaults (approximate)."""

_POLY = ("Polygon", "MultiPolygon")
_LINE = ("LineString",)
_POINT = ("Point",)

LAYERS: dict[str, LayerSpec] = {
    s.name: s
    for s in (
        LayerSpec(
            "boundary",
            _POLY,
            "city_code",
            (Attr("city_code", "str"), Attr("name", "str"), Attr("name_en", "str")),
            doc="The city boundary (one feature).",
        ),
        LayerSpec(
            "dongs",
            _POLY,
            "dong_code",
            (Attr("dong_code", "str"), Attr("name", "str"), Attr("name_en", "str")),
            doc="Administrative dongs (행정동) with Korean and English names.",
        ),
        LayerSpec(
            "streams",
            _LINE,
            "reach_id",
            (
                Attr("reach_id", "str"),
                Attr("name", "str", doc="Korean stream name, e.g. 중랑천"),
                Attr("name_en", "str"),
                Attr("downstream_reach_id", "str", nullable=True, doc="next reach downstream; null at an outlet"),
                Attr(
                    "width_m",
                    "float",
                    positive=True,
                    max_value=2000.0,
                    valid_range=(1.0, 500.0),
                    doc="channel width between banks, m",
                ),
                Attr(
                    "bank_height_m",
                    "float",
                    positive=True,
                    max_value=30.0,
                    valid_range=(0.5, 15.0),
                    doc="bank (levee) top above bed, m",
                ),
                Attr(
                    "bed_elev_up_m",
                    "float",
                    min_value=ELEVATION_RANGE_M[0],
                    max_value=ELEVATION_RANGE_M[1],
                    doc="bed elevation at the upstream end, m above sea level",
                ),
                Attr(
                    "bed_elev_down_m",
                    "float",
                    min_value=ELEVATION_RANGE_M[0],
                    max_value=ELEVATION_RANGE_M[1],
                    doc="bed elevation at the downstream end, m a.s.l.",
                ),
                Attr("bed_slope", "float", min_value=0.0, max_value=1.0, valid_range=(0.0, 0.1), doc="bed slope, m/m"),
                Attr(
                    "manning_n",
                    "float",
                    positive=True,
                    max_value=1.0,
                    valid_range=(0.01, 0.2),
                    doc="Manning roughness, s/m^(1/3)",
                ),
                Attr("approximate", "bool"),
            ),
            may_be_empty=True,
            doc="Stream centrelines split into reaches, upstream to downstream, with channel geometry "
            "(empty in a dataset without rivers, e.g. a verification geometry; the flood model needs them).",
        ),
        LayerSpec(
            "roads",
            _LINE,
            "edge_id",
            (
                Attr("edge_id", "str"),
                Attr("kind", "str", choices=ROAD_KINDS),
                Attr(
                    "width_m",
                    "float",
                    positive=True,
                    max_value=200.0,
                    valid_range=(0.5, 100.0),
                    doc="walkable width, m",
                ),
                Attr("name", "str", nullable=True, doc="real road name (Korean) where known"),
            ),
            doc="The walkable network as line edges; edges meet only at shared end points.",
        ),
        LayerSpec(
            "access_points",
            _POINT,
            "access_id",
            (
                Attr("access_id", "str"),
                Attr("kind", "str", choices=ACCESS_KINDS),
                Attr("stream", "str", doc="Korean stream name"),
                Attr(
                    "path_elevation_m",
                    "float",
                    min_value=ELEVATION_RANGE_M[0],
                    max_value=ELEVATION_RANGE_M[1],
                    doc="riverside path elevation at this point, m a.s.l.",
                ),
                Attr("path_height_m", "float", min_value=0.0, max_value=30.0, doc="path above the stream bed, m"),
                Attr("gate_id", "str", nullable=True),
            ),
            required=False,
            may_be_empty=True,
            doc="Where ramps and stairs reach the riverside paths (the path end of the ramp).",
        ),
        LayerSpec(
            "buildings",
            _POLY,
            "building_id",
            (
                Attr("building_id", "str"),
                Attr("year_built", "int", nullable=True, min_value=1800, max_value=2200, doc="year, AD"),
                Attr("storeys", "int", nullable=True, positive=True, max_value=200, doc="storeys above ground"),
                Attr("structure", "str", choices=BUILDING_STRUCTURES),
                Attr("use", "str"),
            ),
            may_be_empty=True,
            doc="Building footprints with construction year, storeys above ground, structure and use.",
            optional_attrs=(
                Attr("name", "str", nullable=True, doc="what people call it (shown instead of the id)"),
                Attr(
                    "occupants",
                    "int",
                    nullable=True,
                    min_value=0,
                    max_value=100_000,
                    doc="residents or users at night, people (evacuated when its collapse alarm goes off)",
                ),
                Attr(
                    "tilt_ratio",
                    "float",
                    nullable=True,
                    min_value=0.0,
                    max_value=0.2,
                    doc="tilt surveyed when its sensors were fitted, horizontal per vertical (1/750 = 0.00133)",
                ),
            ),
        ),
        LayerSpec(
            "facilities",
            _POINT,
            "facility_id",
            (
                Attr("facility_id", "str"),
                Attr("kind", "str", choices=FACILITY_KINDS),
                Attr("name", "str"),
                Attr("name_en", "str", nullable=True),
            ),
            may_be_empty=True,
            doc="Public facilities, schools, children's protection zones, shelters, stations.",
        ),
        LayerSpec(
            "slopes",
            _POLY,
            "slope_id",
            (
                Attr("slope_id", "str"),
                Attr("name", "str"),
                Attr("slope_deg", "float", positive=True, max_value=90.0, doc="typical slope angle, degrees"),
            ),
            required=False,
            may_be_empty=True,
            doc="Steep-slope zones (급경사지), with the soil that the slope-stability model needs.",
            optional_attrs=SLOPE_SOIL_ATTRS,
        ),
        LayerSpec(
            "devices",
            _POINT,
            "device_id",
            (
                Attr("device_id", "str"),
                Attr("kind", "str", choices=DEVICE_KINDS),
                Attr("name", "str", nullable=True),
            ),
            may_be_empty=True,
            doc="Every field device, one layer, kind-specific attributes.",
            kind_attrs={
                "level_sensor": (
                    Attr("stream", "str"),
                    *(
                        Attr(f"threshold_{level}_m", "float", min_value=0.0, max_value=50.0, doc=f"{ko} stage, m")
                        for level, ko in zip(THRESHOLD_LEVELS, ("관심", "주의", "경계", "심각"), strict=True)
                    ),
                    Attr("thresholds_verified", "bool"),
                    Attr(
                        "sensor_height_m",
                        "float",
                        positive=True,
                        max_value=100.0,
                        doc="sensor above the gauge datum, m",
                    ),
                ),
                "rain_gauge": (Attr("resolution_mm", "float", positive=True, max_value=10.0, doc="tip, mm"),),
                "gate": (
                    Attr("access_id", "str", doc="access_id of the access point it closes"),
                    Attr("level_sensor_id", "str", doc="device_id of its level sensor"),
                    Attr("rain_gauge_id", "str", doc="device_id of its rain gauge"),
                    Attr(
                        "travel_time_s",
                        "float",
                        positive=True,
                        max_value=3600.0,
                        valid_range=(1.0, 300.0),
                        doc="barrier travel open to closed, s",
                    ),
                ),
                "signboard": (
                    Attr("lines", "int", positive=True, max_value=20),
                    Attr("chars_per_line", "int", positive=True, max_value=200),
                ),
                "cctv": (
                    Attr("mount_height_m", "float", positive=True, max_value=100.0, doc="above ground, m"),
                    Attr(
                        "heading_deg", "float", min_value=0.0, max_value=360.0, doc="clockwise from grid north, degrees"
                    ),
                    Attr(
                        "fov_deg",
                        "float",
                        positive=True,
                        max_value=179.0,
                        doc="horizontal field of view, degrees (a panoramic camera: one row per lens)",
                    ),
                    Attr("resolution_px", "int", positive=True, max_value=20000, doc="horizontal resolution, px"),
                    Attr(
                        "ir_range_m",
                        "float",
                        nullable=True,
                        positive=True,
                        max_value=1000.0,
                        doc="reach of its infrared light at night, m (null: sees nothing at night)",
                    ),
                    Attr(
                        "ptz_sweep_deg",
                        "float",
                        nullable=True,
                        min_value=0.0,
                        max_value=360.0,
                        doc="pan of a PTZ camera's preset tour, centred on heading_deg, degrees (null or 0: fixed)",
                    ),
                    Attr(
                        "ptz_period_s",
                        "float",
                        nullable=True,
                        positive=True,
                        max_value=3600.0,
                        doc="time of one tour there and back, s (needed with a sweep)",
                    ),
                ),
                "tilt_sensor": (Attr("host_id", "str", doc="building_id or slope_id it is fixed to"),),
                "crack_sensor": (Attr("host_id", "str", doc="building_id or slope_id it is fixed to"),),
                "extensometer": (Attr("host_id", "str", doc="slope_id it is fixed to"),),
                "crosswalk": (Attr("school_id", "str", doc="facility_id of the school"),),
            },
        ),
    )
}

MANIFEST_KEYS = ("schema_version", "name", "crs", "layers")
