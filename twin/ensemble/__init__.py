"""Scenario ensembles: many runs of one scenario with sampled parameters, on Dask, reduced to
KPI tables, percentiles, exceedance probabilities, Sobol indices and discovered rules.

The request (:mod:`~twin.ensemble.spec`, :mod:`~twin.ensemble.parameters`) gives a design
(:mod:`~twin.ensemble.design`) and validated members (:mod:`~twin.ensemble.members`); workers run
them (:mod:`~twin.ensemble.worker`) and keep what :mod:`~twin.ensemble.kpis` declares; the sweep
(:mod:`~twin.ensemble.sweep`) writes the folder (:mod:`~twin.ensemble.folder`) and its analysis
(:mod:`~twin.ensemble.analysis`). ``twin sweep`` is the command line.
"""
