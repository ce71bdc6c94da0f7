"""``twin gis build-default`` and ``twin gis build-verification``: the dataset builder's commands,
registered under the ``twin.gis_commands`` entry points. The building modules are imported when a
command runs, so ``--help`` needs none of the builder's own dependencies (korean-romanizer)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from twin.errors import TwinError

DEFAULT_REFERENCE = Path("../shared/reference-data")
"""Where the reference data sits in the development checkout, relative to the repository root."""


def _fail(exc: Exception) -> None:
    """One line on stderr and exit status 2, like twin's own commands."""
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


@click.command("build-default")
@click.option(
    "--reference",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_REFERENCE,
    show_default=True,
    help="Folder of the public reference data the dataset is built from (only in the development checkout).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Dataset folder to write (replaced whole; its README.md is kept), e.g. gis_data/uijeongbu.",
)
def build_default(reference: Path, out: Path) -> None:
    """Build the default Uijeongbu dataset from the reference data, deterministically (byte for byte)."""
    from .reference import check_reference

    try:
        check_reference(reference)
    except TwinError as exc:
        _fail(exc)
    try:
        from .build_uijeongbu import build_default as build
    except ImportError as exc:  # korean-romanizer names the facilities; it comes with the test extra
        _fail(TwinError(f"twin gis build-default needs {exc.name}: pip install 'uijeongbu-twin[test]'"))
    try:
        manifest = build(reference, out)
    except (TwinError, OSError) as exc:
        _fail(exc)
    for name, entry in manifest["layers"].items():
        mark = "  (approximate)" if entry["approximate"] else ""
        click.echo(f"{name:14s} {entry['features']:6d} features{mark}")


@click.command("build-verification")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder to write the corridor/, bottleneck/ and room/ datasets into, e.g. gis_data/verification.",
)
def build_verification(out: Path) -> None:
    """Build the verification geometries of the crowd checks (corridor, bottleneck, room; EPSG:5186)."""
    from .build_verification import build_verification as build

    try:
        names = build(out)
    except (TwinError, OSError) as exc:
        _fail(exc)
    click.echo(f"wrote {', '.join(names)} in {out}")
