"""Open data: every proposal, its evaluations and its feedback as a documented package, and back.

This module is the package's front: :mod:`~twin.proposals.package_format` (the tables and the data
dictionary), :mod:`~twin.proposals.package_export` and :mod:`~twin.proposals.package_import`.

:func:`export_package` writes a folder (atomically: built beside it, then renamed in)::

    datapackage.json       Frictionless Data Package descriptor: every table's schema (the data dictionary)
    README.md              the data dictionary in Korean and English, the licence, how names are handled
    LICENSE                Creative Commons Attribution 4.0 (CC BY 4.0)
    proposals.csv          one row per proposal
    comments.csv           one row per comment
    votes.csv              one row per vote (always pseudonymous)
    evaluation_runs.csv    one row per evaluation (the runs of the proposal and its baseline)
    evaluations.csv        one row per evaluation and KPI column (long format): baseline vs proposal
    changes.geojson        the devices each proposal adds, moves or removes (WGS84 lon/lat points)

Names: a commenter's name is written only on the comments where they consented to publish it
(``public_name``), an author's only with their consent (``author_public``); everywhere else (other
comments and authors, every vote) they are a pseudonym
``참여자 N / participant N``, numbered by first appearance and the same for one person throughout
the package. Ids are the package's own numbers (1, 2, ...), not the database's.

CSV: UTF-8 with a byte-order mark (so Excel in Korea opens it as UTF-8), comma-separated, CRLF
line ends (RFC 4180). A text cell that starts with ``= + - @``, a tab, a carriage return or ``'``
gets a leading ``'`` so no spreadsheet runs it as a formula (CSV injection); the import removes it.

The same database content gives the same bytes: rows are sorted, JSON keys are sorted and no file
holds the time of the export. :func:`import_package` validates the whole package first (every
problem names the file, the row and the field, never the content) and then writes it in one
transaction, under new ids.
"""

from __future__ import annotations

from .package_export import export_package
from .package_format import PACKAGE_FORMAT, PACKAGE_VERSION, TABLES, escape_cell, pseudonym, unescape_cell
from .package_import import import_package, read_package

__all__ = ["PACKAGE_FORMAT", "PACKAGE_VERSION", "TABLES", "escape_cell", "export_package", "import_package",
           "pseudonym", "read_package", "unescape_cell"]
