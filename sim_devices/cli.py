"""``twin devices ...``: the simulated device fleet from the command line."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click


@click.group("devices")
def devices() -> None:
    """Simulated devices that speak Modbus TCP and MQTT, fed by a running scenario."""


@devices.command("serve")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@click.option(
    "--manifest",
    type=click.Path(path_type=Path),
    default=Path("fleet/manifest.json"),
    show_default=True,
    help="Where to write the manifest (credentials.json goes beside it).",
)
@click.option(
    "--speed",
    type=float,
    default=1.0,
    show_default=True,
    help="Simulated seconds per wall-clock second (1 = real time).",
)
@click.option(
    "--broker",
    "broker_url",
    default="embedded",
    show_default=True,
    metavar="embedded|mosquitto|URL",
    help="embedded: an amqtt broker inside the fleet; mosquitto: a mosquitto the fleet starts (password file, "
    "ACL); mqtt://HOST:PORT: an external broker given the accounts in credentials.json.",
)
@click.option("--until", "until", default=None, metavar="DURATION", help="Stop at this simulated time (e.g. 2h).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a scenario field (repeatable).")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the run folder here at the end (the app can open it and play it back).",
)
@click.option(
    "--replicas", type=click.IntRange(min=0), default=0, help="Extra copies of the level sensors (load tests)."
)
def serve(
    scenario_file: Path,
    manifest: Path,
    speed: float,
    broker_url: str | None,
    until: str | None,
    overrides: tuple[str, ...],
    replicas: int,
    out: Path | None,
) -> None:
    """Start every device of SCENARIO's dataset on 127.0.0.1 and run the scenario in step with the clock."""
    from twin.errors import ScenarioError, TwinError
    from twin.scenario import load_scenario, parse_duration

    from .fleet import Fleet

    try:
        scenario = load_scenario(scenario_file, overrides=overrides)
    except ScenarioError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    try:
        until_s = parse_duration(until) if until else None
    except ValueError as exc:
        click.echo(f"error: --until: got {until!r}: {exc}", err=True)
        sys.exit(2)
    if out is not None:
        from twin._atomic import check_output_dir
        from twin.results import SUMMARY

        try:
            check_output_dir(out, overwrite=True, marker=SUMMARY)  # refuse a bad --out before the run
        except (TwinError, OSError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
    if speed <= 0:
        click.echo(f"error: --speed: got {speed}: expected a number > 0", err=True)
        sys.exit(2)
    try:
        fleet = Fleet(
            scenario, speed=speed, broker_url=broker_url, workdir=manifest.parent.resolve(), replicas=replicas
        )
    except TwinError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)

    def progress(done: float, total: float) -> None:
        click.echo(f"simulated {done / 60:.0f} of {total / 60:.0f} min, {fleet.ctx.published} messages", err=True)

    click.echo(f"{len(fleet.devices)} devices; manifest: {manifest}", err=True)
    try:
        result = asyncio.run(fleet.serve(manifest=manifest, until_s=until_s, progress=progress))
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
        return
    except TwinError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"done: {result}", err=True)
    if out is not None:
        try:
            click.echo(f"wrote {fleet.write_run(out, result)}", err=True)
        except (TwinError, OSError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
