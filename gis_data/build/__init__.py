"""The builder of the shipped datasets: the default Uijeongbu dataset from the public reference
data (:mod:`.build_uijeongbu`, ``twin gis build-default``) and the verification geometries
(:mod:`.build_verification`, ``twin gis build-verification``).

A client of twin, like sim_devices: it uses twin's writers, and twin never imports it (an
import-linter contract). Its commands reach ``twin gis`` through the ``twin.gis_commands`` entry
points (pyproject.toml), loaded when used.
"""
