"""Uijeongbu digital twin: GIS city model, simulations and results.

Data flows one way: GIS (``twin.city``) -> scenario -> engine -> models -> results -> app; the
simulated devices (``sim_devices``) sit above this package and are never imported by it. The layers
and their order are in docs/architecture.md and checked by ``lint-imports`` in CI.
"""

from .city import CityModel, load_city, validate_city
from .errors import DataImportError, DatasetError, GraphError, Problem, TwinError

__all__ = [
    "CityModel",
    "DataImportError",
    "DatasetError",
    "GraphError",
    "Problem",
    "TwinError",
    "load_city",
    "validate_city",
]
__version__ = "0.1.0"
