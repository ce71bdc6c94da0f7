"""Pedestrians on the walk graph: Mesa agents moved link by link by events on the engine's clock.

``fundamental_diagram`` (Weidmann), ``links`` (walkable area, capacity, queues), ``pedestrian``
(the agent), ``model`` (the Mesa model that owns them).
"""
