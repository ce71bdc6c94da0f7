"""Hardware-in-the-loop runs of the gate controllers: the device fleet, a controller that reaches
it only through the devices' protocols, and the verdict of :mod:`twin.control.verdict` on what
they did (``twin hil``). What judges a run needs no device and lives in :mod:`twin.control`."""
