"""Pedestrians on the walk graph: Mesa agents moved link by link by events on the engine's clock.

``fundamental_diagram`` (Weidmann), ``links`` (walkable area, capacity, queues), ``pedestrian``
(the agent and its decisions), ``model`` (the Mesa model that owns them, with the routing),
``riverside`` (the paths of each stream), ``populations`` (demand), ``evacuation`` (warnings and
orders), ``results`` (samples, tables, KPIs), ``city_crowd`` (one run's crowd, assembled).
"""
