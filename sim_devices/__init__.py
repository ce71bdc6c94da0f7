"""Simulated devices of the Uijeongbu twin that speak the real protocols (Modbus TCP, MQTT, ...).

Their readings come from a running :class:`twin.simulation.Simulation`; gate commands go back
into it. ``twin devices serve SCENARIO`` starts a whole fleet (see :mod:`sim_devices.fleet`).
"""
