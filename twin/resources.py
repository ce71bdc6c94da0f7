"""Where the files shipped with the program are: the default Uijeongbu dataset and the scenarios.

They ship as two data packages of the distribution, ``gis_data`` (the folders ``gis_data/uijeongbu``
and ``gis_data/verification``) and ``scenarios`` (the scenario files with their ``data/``,
``gates/``, ``policies/`` and ``verification/`` folders), installed side by side with ``twin``, so
the layout of the repository holds wherever the program is installed: a scenario's relative paths
(``../policies/reference_gates.yaml``, ``../../gis_data/verification/room``) resolve against its
own folder in a source checkout, an editable install and an installed wheel alike.

The folders are found through :mod:`importlib.resources`, never from this file's place. twin reads
them as data; it never imports the dataset builder (``gis_data.build``, a client of twin).

>>> (default_dataset() / "manifest.json").is_file()
True
>>> (shipped_scenarios() / "flash_flood_jungnangcheon.yaml").is_file()
True
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .errors import DatasetError, TwinError

DATASET_PACKAGE = "gis_data"
"""The data package holding the shipped datasets (``uijeongbu/``, ``verification/``)."""
DEFAULT_DATASET_FOLDER = "uijeongbu"
"""The shipped Uijeongbu dataset's folder inside :data:`DATASET_PACKAGE`."""
SCENARIOS_PACKAGE = "scenarios"
"""The data package holding the shipped scenario files."""
REINSTALL = "reinstall uijeongbu-twin (pip install uijeongbu-twin, or pip install -e . in a checkout)"


def _package_folder(package: str) -> Path | None:
    """The folder of installed data package ``package`` on disk, or None when it is not installed
    (or not a folder, as inside a zip file)."""
    try:
        root = files(package)
    except ModuleNotFoundError:
        return None
    path = Path(str(root))
    return path if path.is_dir() else None


def default_dataset() -> Path:
    """The folder of the shipped Uijeongbu dataset (``manifest.json`` and the layer files, GeoJSON
    in WGS84; the library works in EPSG:5186). Raises :class:`~twin.errors.DatasetError` when it is
    not installed."""
    root = _package_folder(DATASET_PACKAGE)
    folder = None if root is None else root / DEFAULT_DATASET_FOLDER
    if folder is None or not (folder / "manifest.json").is_file():
        where = f"package {DATASET_PACKAGE!r} is not installed" if folder is None else f"{folder} has no manifest.json"
        raise DatasetError(
            f"the shipped Uijeongbu dataset is missing ({where}); {REINSTALL}, or pass a dataset directory"
        )
    return folder


def shipped_scenarios() -> Path:
    """The folder of the shipped scenario files (``*.yaml``, with ``data/``, ``gates/``,
    ``policies/`` and ``verification/``). Raises :class:`~twin.errors.TwinError` when it is not
    installed."""
    root = _package_folder(SCENARIOS_PACKAGE)
    if root is None or not any(root.glob("*.yaml")):
        where = f"package {SCENARIOS_PACKAGE!r} is not installed" if root is None else f"{root} has no *.yaml"
        raise TwinError(f"the shipped scenarios are missing ({where}); {REINSTALL}")
    return root
