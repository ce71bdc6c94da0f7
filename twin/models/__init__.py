"""Models that run as processes on the engine's clock: rain, river flood, later crowds and devices."""
