"""The shipped datasets, as package data: ``uijeongbu/`` (the default Uijeongbu dataset) and
``verification/`` (the corridor, bottleneck and room of the crowd checks). twin finds them with
:mod:`twin.resources`; ``gis_data.build`` is the program that builds them (``twin gis build-default``).
"""
