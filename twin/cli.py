"""The ``twin`` command line.

Errors the user can fix (a bad dataset, a bad file) print one readable message and exit with
status 2, without a traceback; ``twin gis validate`` exits 1 when it finds problems.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import click

from .errors import TwinError
from .models.camera_optics import DORI_LEVELS

COMMANDS_ENTRY_POINTS = "twin.commands"
"""Entry-point group of the command groups other packages add to ``twin`` (``devices`` and ``hil``
come from sim_devices, see pyproject.toml); each names a :class:`click.Command`."""
GIS_COMMANDS_ENTRY_POINTS = "twin.gis_commands"
"""Entry-point group of the commands other packages add to ``twin gis`` (``build-default`` and
``build-verification`` come from the dataset builder, gis_data.build)."""

DATA_OPTION = click.option(
    "--data",
    "data",
    type=click.Path(path_type=Path),
    default=None,
    help="Dataset directory (default: the shipped Uijeongbu dataset, gis_data/uijeongbu).",
)


def _scenario_or_exit(path: Path, **kw):
    """The scenario in ``path`` (twin.scenario.load_scenario), or its problems, one per line, and exit 2."""
    from .errors import ScenarioError
    from .scenario import load_scenario

    try:
        return load_scenario(path, **kw)
    except ScenarioError as exc:
        for line in exc.problems:
            click.echo(line, err=True)
        sys.exit(2)


def _fail(exc: Exception) -> None:
    """One short message and exit status 2; an invalid dataset points to `twin gis validate`."""
    from .errors import DatasetError

    if isinstance(exc, DatasetError) and len(exc.problems) > 1:
        where = exc.dataset or "the dataset"
        click.echo(
            f"error: {where} is invalid ({len(exc.problems)} problems; first: {exc.problems[0]}). "
            f"Run: twin gis validate --data {where}",
            err=True,
        )
    else:
        click.echo(f"error: {exc}", err=True)
    sys.exit(2)


class _TwinGroup(click.Group):
    """``twin``'s own commands, plus those registered under :data:`COMMANDS_ENTRY_POINTS`, loaded
    when used: ``twin gis`` or ``twin run`` never import the device package. A registered command
    whose package cannot be imported is left out of ``--help`` and says why when called."""

    entry_point_group = COMMANDS_ENTRY_POINTS
    command_prefix = "twin"

    def _registered(self) -> dict[str, EntryPoint]:
        return {ep.name: ep for ep in entry_points(group=self.entry_point_group)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._registered()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        own = super().get_command(ctx, cmd_name)
        if own is not None:
            return own
        ep = self._registered().get(cmd_name)
        if ep is None:
            return None
        try:
            return ep.load()
        except ImportError as exc:
            return _unavailable(f"{self.command_prefix} {cmd_name}", ep, exc)


class _GisGroup(_TwinGroup):
    """``twin gis``: its own commands plus those registered under :data:`GIS_COMMANDS_ENTRY_POINTS`
    (the dataset builder), loaded when used."""

    entry_point_group = GIS_COMMANDS_ENTRY_POINTS
    command_prefix = "twin gis"


def _unavailable(command: str, ep: EntryPoint, exc: ImportError) -> click.Command:
    """A hidden stand-in for a registered command (``command``: as typed, ``twin devices``) whose
    package cannot be imported."""

    def fail(args: tuple[str, ...]) -> None:
        _fail(TwinError(f"{command} is not available: {ep.value} could not be imported ({exc})"))

    return click.Command(
        command.rsplit(" ", 1)[-1],
        callback=fail,
        hidden=True,
        params=[click.Argument(["args"], nargs=-1)],
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    )


@click.group(cls=_TwinGroup)
@click.version_option(package_name="uijeongbu-twin")
def main() -> None:
    """Uijeongbu digital twin: city model, simulations, simulated devices."""


@main.group(cls=_GisGroup)
def gis() -> None:
    """The GIS city model: inspect, validate, export, import real data, build the shipped datasets."""


@gis.command("info")
@DATA_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable summary (docs/gis_info.md).")
def gis_info(data: Path | None, as_json: bool) -> None:
    """Summarise a dataset: layers, devices, walk graph, bounds."""
    from .city import load_city

    try:
        info = load_city(data).info()
    except (TwinError, OSError) as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    click.echo(f"{info['name']}  ({info['path']})")
    click.echo(f"CRS (working): {info['crs']}   bounds (WGS84): {info['bounds_wgs84']}")
    click.echo("layers:")
    for name, n in info["layers"].items():
        mark = "  approximate" if name in info["approximate_layers"] else ""
        click.echo(f"  {name:14s} {n:7d}{mark}")
    click.echo("devices: " + ", ".join(f"{k} {v}" for k, v in info["devices"].items()))
    g = info["graph"]
    click.echo(
        f"walk graph: {g['nodes']} nodes, {g['edges']} edges, {g['components']} component(s), {g['length_km']} km"
    )


@gis.command("validate")
@DATA_OPTION
def gis_validate(data: Path | None) -> None:
    """Check a dataset; exit 0 when valid, 1 with a report of every problem otherwise."""
    from ._validate import read_dataset
    from .city import default_dataset_path

    try:
        path = default_dataset_path() if data is None else data
    except TwinError as exc:
        _fail(exc)
    result = read_dataset(path)
    problems = result.problems
    for w in result.warnings:  # runs, but outside the range the models were made for
        click.echo(f"{path}: warning: {w}", err=True)
    if not problems:
        click.echo(f"{path}: valid")
        return
    click.echo(f"{path}: {len(problems)} problem(s)", err=True)
    for p in problems:
        click.echo(f"  - {p}", err=True)
    sys.exit(1)


@gis.command("export")
@DATA_OPTION
@click.option("--format", "fmt", type=click.Choice(["gpkg"]), default="gpkg", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output file, e.g. uijeongbu.gpkg")
def gis_export(data: Path | None, fmt: str, out: Path) -> None:
    """Export every layer (EPSG:5186) into one GeoPackage for QGIS."""
    import pyogrio.errors

    from .city import load_city
    from .gis_export import export_gpkg

    try:
        counts = export_gpkg(load_city(data), out)
    except (TwinError, OSError, pyogrio.errors.DataSourceError, pyogrio.errors.FieldError) as exc:
        _fail(exc)
    click.echo(f"wrote {out} ({fmt}): " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@gis.command("map")
@DATA_OPTION
@click.option("--out", type=click.Path(path_type=Path), required=True, help="PNG file to write.")
@click.option("--bbox", nargs=4, type=float, default=None, help="Zoom: minx miny maxx maxy in EPSG:5186 metres.")
def gis_map(data: Path | None, out: Path, bbox) -> None:
    """Draw an overview map (PNG) of the dataset: network, streams, buildings by age, devices."""
    from .city import load_city
    from .gis_plot import plot_city

    try:
        path = plot_city(load_city(data), out, bbox=bbox)
    except (TwinError, OSError) as exc:
        _fail(exc)
    click.echo(f"wrote {path}")


@gis.command("import-osm")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Dataset directory to create.")
@click.option("--name", default=None, help="Dataset name for the manifest.")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
def gis_import_osm(src: Path, out: Path, name: str | None, overwrite: bool) -> None:
    """Import an OpenStreetMap extract (.osm or .osm.pbf) into a dataset directory."""
    from .importers.osm import import_osm

    try:
        report = import_osm(src, out, name=name, overwrite=overwrite, progress=_progress)
    except (TwinError, OSError) as exc:
        _fail(exc)
    _report_import(out, report)


@gis.command("import-shp")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Dataset directory to create.")
@click.option("--roads", type=click.Path(path_type=Path), required=True, help="Road centrelines (e.g. TL_SPRD_MANAGE).")
@click.option("--boundary", type=click.Path(path_type=Path), help="City boundary (e.g. TL_SCCO_SIG).")
@click.option("--dongs", type=click.Path(path_type=Path), help="Dong polygons (e.g. TL_SCCO_EMD).")
@click.option("--buildings", type=click.Path(path_type=Path), help="Buildings (e.g. AL_D010, TL_SPBD_BULD).")
@click.option("--streams", type=click.Path(path_type=Path), help="Stream centrelines.")
@click.option("--facilities", type=click.Path(path_type=Path), help="Facility points.")
@click.option("--crs", default=None, help="Source CRS when the .prj is missing or wrong: EPSG:5174, 5179 or 5186.")
@click.option("--encoding", default="cp949", show_default=True, help="Attribute encoding of the .dbf files.")
@click.option("--map", "maps", multiple=True, metavar="LAYER.ATTR=FIELD", help="Override a field mapping.")
@click.option("--name", default=None, help="Dataset name for the manifest.")
@click.option("--overwrite", is_flag=True, help="Replace --out if it exists.")
def gis_import_shp(out, roads, boundary, dongs, buildings, streams, facilities, crs, encoding, maps, name, overwrite):
    """Import Korean national GIS shapefiles into a dataset directory."""
    from .importers.shp import import_shp

    field_map = {}
    for m in maps:
        if "=" not in m or "." not in m.split("=", 1)[0]:
            _fail(TwinError(f"--map {m!r}: expected LAYER.ATTR=FIELD, e.g. roads.name=RN"))
        k, v = m.split("=", 1)
        field_map[k.strip()] = v.strip()
    try:
        report = import_shp(
            out,
            roads=roads,
            boundary=boundary,
            dongs=dongs,
            buildings=buildings,
            streams=streams,
            facilities=facilities,
            crs=crs,
            encoding=encoding,
            field_map=field_map or None,
            overwrite=overwrite,
            name=name,
        )
    except (TwinError, OSError) as exc:
        _fail(exc)
    _report_import(out, report)


def _progress(message: str) -> None:
    """Stage messages of long work, on stderr so that stdout stays parseable."""
    click.echo(f"  ... {message}", err=True)


def _report_import(out: Path, report: dict) -> None:
    click.echo(f"wrote dataset {out}")
    click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    click.echo(f"check it with: twin gis validate --data {out}")


@main.command("coverage")
@click.argument("scenario_file", metavar="[SCENARIO]", required=False, type=click.Path(path_type=Path))
@DATA_OPTION
@click.option(
    "--weights",
    "weights",
    type=click.Path(path_type=Path),
    default=None,
    metavar="RUN_DIR",
    help="A crowd run's folder: weigh coverage and placement by the person-seconds on each link.",
)
@click.option(
    "--add",
    "add",
    type=click.IntRange(min=0, max=1000),
    default=0,
    show_default=True,
    help="Place this many new cameras (greedy and exact integer program).",
)
@click.option(
    "--budget",
    type=str,
    default=None,
    metavar="SHARE",
    help="Fewest new cameras that see this share of the served demand (0.8 or 80%).",
)
@click.option("--reaim", is_flag=True, help="Choose new headings for the existing cameras instead of adding any.")
@click.option(
    "--zones",
    default=None,
    metavar="ZONE,...",
    help="Zones a placement serves, comma-separated (default: access_points,riverside_path,street).",
)
@click.option(
    "--level",
    type=click.Choice(DORI_LEVELS),
    default="detection",
    show_default=True,
    help="DORI level a placement asks for.",
)
@click.option(
    "--headings",
    type=click.IntRange(min=1, max=72),
    default=8,
    show_default=True,
    help="Headings tried at each candidate site.",
)
@click.option(
    "--spacing",
    type=click.FloatRange(min=5.0, max=1000.0),
    default=40.0,
    show_default=True,
    help="Candidate poles every this many metres along the served network.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=1.0, max=3600.0),
    default=60.0,
    show_default=True,
    help="Seconds the integer program may take.",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder to write the results to.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def coverage_cmd(scenario_file, data, weights, add, budget, reaim, zones, level, headings, spacing, time_limit, out,
                 quiet) -> None:  # fmt: skip
    """Measure what the CCTV cameras see and miss (per zone and DORI level, by day and by night),
    and place new cameras: writes coverage.json, blind_spots.gpkg (.geojson), views.geojson and
    placement.json to --out."""
    from tqdm import tqdm

    from .atomic import check_output_dir
    from .city import load_city
    from .coverage.assess import CoverageOptions, assess, write_assessment
    from .coverage.exposure import exposure_of_run

    day = CoverageOptions().day
    if scenario_file is not None:

        if data is not None:
            click.echo("error: give a SCENARIO or --data, not both (the scenario names its dataset)", err=True)
            sys.exit(2)
        scenario = _scenario_or_exit(scenario_file)
        data = scenario.dataset_path()
        day = scenario.start.date()
    share = None
    if budget is not None:
        text = budget.strip()
        try:
            share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            click.echo(f"error: --budget: got {budget[:40]!r}: expected a share such as 0.8 or 80%", err=True)
            sys.exit(2)
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if quiet:
            return
        bar = bars.get(stage)
        if bar is None:
            for done_bar in bars.values():
                done_bar.close()
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="", file=sys.stderr, leave=True)
        bar.update(done - bar.n)

    try:
        check_output_dir(out, overwrite=True, marker="coverage.json")  # before the work, not after
        city = load_city(data)
        exposure = exposure_of_run(weights) if weights is not None else None
        served = CoverageOptions().zones if zones is None else tuple(z.strip() for z in zones.split(",") if z.strip())
        options = CoverageOptions(add=add, budget=share, reaim=reaim, level=level, headings=headings, zones=served,
                                  spacing_m=spacing, time_limit_s=time_limit, day=day)  # fmt: skip
        result = assess(city, options, exposure=exposure, progress=progress)
        files = write_assessment(result, out)
    except (TwinError, OSError) as exc:
        _fail(exc)
    finally:
        for bar in bars.values():
            bar.close()
    _report_coverage(result.coverage, result.placement)
    for f in files:
        click.echo(f"wrote {f}")


def _report_coverage(cov: dict, placement: dict | None) -> None:
    """A few lines people read: per zone, the share seen by day and by night, then the placement."""
    click.echo(f"{cov['cameras']} cameras; share of walkable length seen (detection, >= 1 camera): day / night")
    for zone, m in cov["day"].items():
        d = m["levels"]["detection"]["length_share_1"]
        n = cov["night"][zone]["levels"]["detection"]["length_share_1"]
        if d is None:
            continue
        click.echo(f"  {zone:<22} {m['length_m'] / 1000:8.1f} km  {d:6.1%} / {n:6.1%}")
    unseen = [a for a in cov["access_points"] if not a["day_share"]]
    gates = [a for a in unseen if a["gate_id"]]
    click.echo(f"  access points no camera sees: {len(unseen)} of {len(cov['access_points'])} (gates: {len(gates)})")
    paths = cov.get("smart_path_candidates") or []
    if paths:
        click.echo("back roads for the next smart pedestrian paths (unseen length x people walking):")
        for c in paths:
            click.echo(f"  {c['rank']}. {c['street']}: {c['reasons']}")
    if placement is None:
        return
    if "k" in placement:
        g, e = placement["greedy"], placement["exact"]
        click.echo(
            f"placing {placement['k']} cameras ({placement['mode']}): served demand seen"
            f" {placement['before_share']:.1%}"
            f" -> greedy {g['share']:.1%} ({g['solve_s']:.2f} s), exact {e['share']:.1%} ({e['status']},"
            f" gap {e['gap'] if e['gap'] is not None else 0:.2%}, {e['solve_s']:.2f} s)"
        )
    if "budget" in placement:
        b = placement["budget"]
        click.echo(
            f"to see {b['target_share']:.0%} of the served demand: {b['exact']['cameras']} new cameras (exact,"
            f" {b['exact']['status']}), greedy {b['greedy']['cameras']}"
        )


@main.command("run")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Run folder to write (default: runs/<scenario file name>).",
)
@click.option("--seed", type=int, default=None, help="Override the scenario's seed.")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a scenario field, e.g. rainfall.total_mm=120 (repeatable; VALUE is YAML).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run_cmd(scenario_file: Path, out: Path | None, seed: int | None, overrides: tuple[str, ...], quiet: bool) -> None:
    """Run SCENARIO headless and write summary.json, timeseries.parquet, events.parquet, model.inp."""
    from tqdm import tqdm

    from .runner import run_scenario
    from .scenario import scenario_warnings

    scenario = _scenario_or_exit(scenario_file, overrides=overrides, seed=seed)
    for line in scenario_warnings(scenario):  # runs, but outside what the models were made for
        click.echo(f"{scenario_file}: warning: {line}", err=True)
    out = out or Path("runs") / scenario_file.stem
    bar = (
        None
        if quiet
        else tqdm(
            total=scenario.duration_s / 3600,
            unit="h",
            desc="simulated",
            file=sys.stderr,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} h [{elapsed}]",
        )
    )

    def progress(done_s: float, total_s: float) -> None:
        if bar is not None:
            bar.update(done_s / 3600 - bar.n)

    try:
        result = run_scenario(scenario, out=out, progress=progress)
    except (TwinError, OSError) as exc:
        _fail(exc)
    finally:
        if bar is not None:
            bar.close()
    s = result.summary
    click.echo(f"wrote {result.out}")
    if "gauges" in s:
        fp = s["flooded_paths"]
        for gid, g in s["gauges"].items():
            if not gid.startswith("LS-10"):
                continue
            lvl = g["highest_level"] or "below attention (관심)"
            click.echo(
                f"  {gid}: peak stage {g['peak_stage_m']:.2f} m at {g['time_of_peak'][11:16]}, "
                f"peak discharge {g['peak_discharge_m3s']} m³/s, highest level: {lvl}"
            )
        lead = fp["min_warning_lead_time_s"]
        text = f"  riverside paths flooded: {fp['count']} of {len(s['access_points'])} access points"
        if lead is not None:
            text += (
                f"; shortest warning {lead / 60:.0f} min"
                if lead >= 0
                else f"; one flooded {-lead / 60:.0f} min before its first alert"
            )
        click.echo(text)
        sw = s["swmm"]
        click.echo(
            f"  SWMM continuity error: runoff {sw['runoff_continuity_error_pct']:.3f} %, "
            f"flow routing {sw['flow_routing_continuity_error_pct']:.3f} %"
        )
    if "crowd" in s:
        c = s["crowd"]
        t100 = f"t100 {c['t100_s']} s" if c["t100_s"] is not None else f"{c['not_safe']} not yet safe"
        click.echo(
            f"  people: {c['people']}, evacuated {c['evacuated']} (t90 {c['t90_s']} s, {t100}), "
            f"exposed to water {c['exposed_people']}, stranded {c['stranded']}"
        )
        for zone, b in c.get("evacuation_lower_bound_s", {}).items():
            sim = f"{b['simulated_s']:g} s" if b["simulated_s"] is not None else "not everyone got out"
            ratio = f", {b['ratio']:.2f} x the bound" if b["ratio"] is not None else ""
            bound = f"{b['bound_s']:g} s" if b["bound_s"] is not None else "none (no way out)"
            click.echo(f"  {zone}: {b['people']} evacuees, simulated {sim}, lower bound {bound}{ratio}")
    if result.verdict is not None:
        from .control.verdict_report import text_report

        click.echo("gates (verdict.json, report.html):")
        click.echo("\n".join("  " + line for line in text_report(result.verdict).splitlines()))
        if result.verdict["status"] != "passed":
            sys.exit(1)


def _attach() -> None:
    from .cli_proposal import proposal_group
    from .cli_scenario import policy_group, scenario_group
    from .cli_sweep import sweep_cmd

    main.add_command(scenario_group)
    main.add_command(policy_group)
    main.add_command(sweep_cmd)
    main.add_command(proposal_group)


_attach()

if __name__ == "__main__":
    main()
