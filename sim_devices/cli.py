"""``twin devices ...``: the simulated device fleet from the command line (registered with ``twin`` through
the ``twin.commands`` entry points in pyproject.toml)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click


@contextmanager
def exits_on(*errors: type[BaseException], prefix: str = "") -> Iterator[None]:
    """Any of ``errors`` raised inside becomes one line ``error: PREFIX<message>`` on stderr and
    exit status 2 (a usage or input error, not a crash)."""
    try:
        yield
    except errors as exc:
        click.echo(f"error: {prefix}{exc}", err=True)
        sys.exit(2)


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
    "speed_text",
    default="1",
    show_default=True,
    metavar="X|max",
    help="Simulated seconds per wall-clock second at most (1 = real time): the clock slows down when the devices "
    "or the broker fall behind, or a controller that reports its progress. max: as fast as they allow.",
)
@click.option(
    "--strict-speed",
    is_flag=True,
    help="Keep exactly --speed whatever falls behind (a controller on wall time, a real PLC).",
)
@click.option(
    "--broker",
    "broker_url",
    default="auto",
    show_default=True,
    metavar="auto|mosquitto|embedded|URL",
    help="auto: mosquitto where it is installed, else embedded; mosquitto: a mosquitto the fleet starts (accounts, "
    "client ids and ACLs in its dynamic security plugin); embedded: an amqtt broker inside the fleet; "
    "mqtt://HOST:PORT: an external broker given the accounts in credentials.json.",
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
    "--replicas",
    type=click.IntRange(min=0),
    default=0,
    help="Extra copies of the level sensors, or without them (--kinds) of the structural sensors (load tests).",
)
@click.option(
    "--kinds",
    "kinds_text",
    default=None,
    metavar="KIND,...",
    help="Serve only these device kinds, e.g. tilt_sensor,crack_sensor,extensometer for an early-warning test "
    "(default: every kind).",
)
def serve(
    scenario_file: Path,
    kinds_text: str | None,
    manifest: Path,
    speed_text: str,
    strict_speed: bool,
    broker_url: str | None,
    until: str | None,
    overrides: tuple[str, ...],
    replicas: int,
    out: Path | None,
) -> None:
    """Start every device of SCENARIO's dataset on 127.0.0.1 and run the scenario in step with the clock."""
    from twin.control.fleet_clock import parse_speed
    from twin.errors import ScenarioError, TwinError
    from twin.scenario import load_scenario
    from twin.value_types import parse_duration

    from .fleet import Fleet

    with exits_on(ScenarioError):
        scenario = load_scenario(scenario_file, overrides=overrides)
    with exits_on(ValueError, prefix=f"--until: got {until!r}: "):
        until_s = parse_duration(until) if until else None
    if out is not None:
        from twin.atomic import check_output_dir
        from twin.results import SUMMARY

        with exits_on(TwinError, OSError):
            check_output_dir(out, overwrite=True, marker=SUMMARY)  # refuse a bad --out before the run
    with exits_on(ValueError, prefix="--speed: "):
        speed = parse_speed(speed_text, strict=strict_speed)
    from .fleet import KINDS

    kinds = tuple(KINDS)
    if kinds_text is not None:
        kinds = tuple(k.strip() for k in kinds_text.split(",") if k.strip())
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            raise click.BadParameter(
                f"got {kinds_text!r}: expected device kinds separated by commas, of {', '.join(KINDS)}",
                param_hint="--kinds",
            )
    with exits_on(TwinError):
        fleet = Fleet(
            scenario,
            speed=speed,
            strict=strict_speed,
            broker_url=broker_url,
            workdir=manifest.parent.resolve(),
            replicas=replicas,
            kinds=kinds,
        )

    def progress(done: float, total: float) -> None:
        click.echo(f"simulated {done / 60:.0f} of {total / 60:.0f} min, {fleet.ctx.published} messages", err=True)

    def ready(path: Path) -> None:
        click.echo(f"manifest: {path} (credentials.json beside it); for client commands: "
                   f"twin devices clients DEVICE --manifest {path}", err=True)  # fmt: skip

    click.echo(f"{len(fleet.devices)} devices", err=True)
    show_refused_inputs()
    interrupted = False
    try:
        with exits_on(TwinError):
            asyncio.run(fleet.serve(manifest=manifest, until_s=until_s, progress=progress, on_ready=ready))
    except KeyboardInterrupt:
        interrupted = True
        click.echo(f"stopped at {fleet.sim.now / 60:.1f} simulated min", err=True)
    result = fleet.result()
    click.echo(done_text(result, interrupted=interrupted), err=True)
    if out is not None:
        extra = {"interrupted": {"at_s": round(fleet.sim.now, 3)}} if interrupted else None
        with exits_on(TwinError, OSError):
            folder = fleet.write_run(out, result, summary_extra=extra)
        click.echo(
            f"wrote {folder}" + (" (interrupted: what was recorded until then)" if interrupted else ""), err=True
        )
    if interrupted:
        sys.exit(130)


def show_refused_inputs() -> None:
    """Refused inputs (a controller's garbage) on stderr, one line each as the devices log them
    (rate-limited per device by :class:`sim_devices.guard.InputLog`)."""
    import logging

    from .guard import LOGGER_NAME

    logger = logging.getLogger(LOGGER_NAME)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False


def done_text(result: dict, *, interrupted: bool = False) -> str:
    """The end of a fleet run in words (simulated s unless named wall)."""
    t = result.get("timing") or {}
    d = t.get("delivery_delay_s") or {}
    eff = t.get("effective_speed")
    fmt = lambda x: "-" if x is None else f"{x:g}"  # noqa: E731
    ceiling = fmt(t.get("speed_ceiling")) + "x" if t.get("speed_ceiling") else "max"
    return (
        f"{'interrupted' if interrupted else 'done'}: {result['sim_time_s'] / 60:.1f} simulated min at "
        f"{fmt(eff)}x ({t.get('mode', 'paced')} clock, ceiling {ceiling}); "
        f"{result['messages']} MQTT messages sent, readings delivered in p50 {fmt(d.get('p50'))} s / "
        f"p99 {fmt(d.get('p99'))} s; {result['modbus_requests']} Modbus and {result['http_requests']} HTTP "
        f"requests answered; the clock lagged {fmt(result.get('max_clock_lag_s'))} s at worst"
        + (f"; {sum(refused.values())} bad inputs refused" if (refused := result.get("refused_inputs")) else "")
    )


RUNNING_MANIFEST = click.option(
    "--manifest",
    type=click.Path(path_type=Path),
    default=Path("fleet/manifest.json"),
    show_default=True,
    help="The running fleet's manifest (credentials.json beside it).",
)


@devices.command("clients")
@click.argument("device_id", metavar="DEVICE")
@RUNNING_MANIFEST
@click.option("--show-passwords", is_flag=True, help="Put the passwords in the commands (they end up in logs).")
def clients(device_id: str, manifest: Path, show_passwords: bool) -> None:
    """Print ready-to-paste mbpoll, mosquitto_sub/pub and curl commands for DEVICE (an id from the
    manifest, or "clock" for the fleet's clock device)."""
    import shutil

    from .clients import ClientError, client_commands

    twin = "twin" if shutil.which("twin") else str(Path(sys.executable).with_name("twin"))
    with exits_on(ClientError):
        commands = client_commands(manifest, device_id, twin=twin, show_passwords=show_passwords)
    for what, command in commands:
        click.echo(f"# {what}\n{command}\n")


@devices.command("password")
@click.argument("user", metavar="USER")
@RUNNING_MANIFEST
def password_cmd(user: str, manifest: Path) -> None:
    """Print USER's password (operator, or a device id), for a shell substitution:
    -P "$(twin devices password operator)"."""
    from .clients import ClientError, password

    with exits_on(ClientError):
        click.echo(password(manifest, user))
