"""``twin hil SCENARIO ...`` (a hardware-in-the-loop run) and ``twin hil replay RUN ...``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..cli import exits_on


class _DefaultToRun(click.Group):
    """``twin hil SCENARIO`` means ``twin hil run SCENARIO``."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


EXIT_STATUS = {"passed": 0, "failed": 1, "inconclusive": 3}


@click.group("hil", cls=_DefaultToRun)
def hil() -> None:
    """Hardware-in-the-loop runs of the gate controllers: twin hil SCENARIO, twin hil replay RUN."""


@hil.command("run")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@click.option(
    "--controller",
    type=click.Choice(["builtin", "external"]),
    default="builtin",
    show_default=True,
    help="builtin: the reference controller as its own process, protocols only; external: yours, pointed at "
    "the manifest (it has --hold seconds to connect before the clock starts).",
)
@click.option("--policy", type=click.Path(path_type=Path), default=None, help="Gate policy (default: the scenario's).")
@click.option(
    "--speed",
    "speed_text",
    default="60",
    show_default=True,
    metavar="X|max",
    help="Simulated seconds per wall second at most: the clock slows down when the devices, the broker or the "
    "controller fall behind. max: as fast as the slowest part allows.",
)
@click.option(
    "--strict-speed",
    is_flag=True,
    help="Keep exactly --speed, for a controller that runs on wall time (a real PLC); lag then makes the run "
    "inconclusive instead of slowing the clock.",
)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Run folder (default: runs/hil-<name>).")
@click.option("--manifest", type=click.Path(path_type=Path), default=None, help="Where to write the manifest.")
@click.option("--broker", default="auto", show_default=True, metavar="auto|mosquitto|embedded|URL")
@click.option("--hold", type=float, default=None, help="Wall seconds from the manifest to simulated second 0.")
@click.option(
    "--devices",
    type=click.Choice(["all", "gates"]),
    default="all",
    show_default=True,
    help="all: every device of the dataset (the real load); gates: only the gates and the devices serving them.",
)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a scenario field.")
def run(
    scenario_file: Path,
    controller: str,
    policy: Path | None,
    speed_text: str,
    strict_speed: bool,
    out: Path | None,
    manifest: Path | None,
    broker: str,
    hold: float | None,
    devices: str,
    overrides: tuple[str, ...],
) -> None:
    """Run SCENARIO with its devices and a gate controller; write verdict.json and report.html.

    Exit status: 0 when every check passed, 1 when one failed, 2 on bad input, 3 when the run was
    inconclusive (a timing budget broke: the verdict says which, and the speed this machine sustained)."""
    from twin.control.fleet_clock import parse_speed
    from twin.control.policy import PolicyError
    from twin.control.verdict_report import text_report
    from twin.errors import ScenarioError, TwinError
    from twin.scenario import load_scenario

    from .runner import run_hil

    with exits_on(ScenarioError):
        scenario = load_scenario(scenario_file, overrides=overrides)
    with exits_on(ValueError, prefix="--speed: "):
        speed = parse_speed(speed_text, strict=strict_speed)
    out = out or Path("runs") / f"hil-{scenario_file.stem}"

    import time

    shown = [0.0]

    first: list[tuple[float, float]] = []

    def progress(done: float, total: float) -> None:
        now = time.monotonic()
        if not first:
            first.append((now, done))
        if now - shown[0] >= 10.0:  # every 10 wall seconds, with the speed the clock is keeping
            shown[0] = now
            span = now - first[0][0]
            pace = f", {(done - first[0][1]) / span:.0f}x" if span > 1.0 else ""
            click.echo(f"simulated {done / 60:.0f} of {total / 60:.0f} min{pace}", err=True)

    def announce(path: Path) -> None:
        click.echo(f"manifest: {path}", err=True)
        if controller == "external":
            click.echo("start your controller now: the clock starts in a moment", err=True)

    with exits_on(PolicyError, TwinError, OSError):
        result = run_hil(
            scenario,
            controller=controller,
            policy=policy,
            speed=speed,
            strict=strict_speed,
            out=out,
            broker=broker,
            manifest=manifest,
            hold_s=hold,
            progress=progress,
            on_manifest=announce,
            devices=devices,
        )
    click.echo(f"wrote {result.out} in {result.wall_s:.0f} s ({result.messages} MQTT messages recorded)")
    click.echo(text_report(result.verdict))
    sys.exit(EXIT_STATUS[result.status])


@hil.command("replay")
@click.argument("run_folder", metavar="RUN", type=click.Path(path_type=Path))
@click.option("--policy", type=click.Path(path_type=Path), default=None, help="The new policy (default: the run's).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the comparison here (JSON).")
def replay_cmd(run_folder: Path, policy: Path | None, out: Path | None) -> None:
    """Feed the readings recorded in RUN (a twin hil --out folder) to the reference controller
    with another policy, and report where its decisions differ from the recorded ones.

    Exit status: 0 when they agree, 1 when they differ, 2 on bad input."""
    import json

    from twin.atomic import atomic_file
    from twin.control.policy import PolicyError, load_policy
    from twin.control.replay import check_run, replay, replay_text
    from twin.errors import TwinError

    with exits_on(PolicyError, TwinError, OSError):
        check_run(run_folder)
        pol = load_policy(policy if policy is not None else run_folder / "policy.yaml")
        result = replay(run_folder, pol)
    click.echo(replay_text(result))
    if out is not None:
        with atomic_file(out) as tmp:
            tmp.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        click.echo(f"wrote {out}")
    sys.exit(1 if result["differs"] else 0)
