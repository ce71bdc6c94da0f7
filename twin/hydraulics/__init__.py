"""River hydraulics: a SWMM model generated from the city model, stepped from the engine's clock.

Modules: ``channel_network`` (junctions and conduits from the stream reaches),
``catchments`` (subcatchments from the city and the upstream basin), ``swmm_inp`` (the EPA SWMM
input file), ``swmm_run`` (a pyswmm run that the engine advances).
"""
