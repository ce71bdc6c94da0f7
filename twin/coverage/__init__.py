"""CCTV coverage of the walk network: what the cameras see, what they miss, where new ones should
go. Built on the camera models (:mod:`twin.models.camera_optics`, :mod:`twin.models.isovist`,
:mod:`twin.models.placement`) and the city; read by the CLI (``twin coverage``) and the app."""
