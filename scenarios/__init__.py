"""The shipped scenario files, as package data (with ``data/``, ``gates/``, ``policies/`` and
``verification/``); twin finds them with :func:`twin.resources.shipped_scenarios`."""
