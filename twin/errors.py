"""The one exception family of the twin.

Every error the library raises on purpose is a :class:`TwinError`. Subclasses also derive from
the matching built-in (``ValueError``, ``OSError``) so callers that catch those keep working.
"""

from __future__ import annotations

from dataclasses import dataclass


class TwinError(Exception):
    """Base class of every error raised by the twin."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in a dataset: which layer, which feature, what is wrong.

    ``feature_id`` is the value of the layer's id column, or ``None`` for a layer-wide problem.
    """

    layer: str
    feature_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.layer if self.feature_id is None else f"{self.layer}[{self.feature_id}]"
        return f"{where}: {self.message}"


class DatasetError(TwinError, ValueError):
    """A dataset directory is missing, unreadable or fails validation.

    ``problems`` lists every problem found (not just the first), each naming layer and feature.
    """

    def __init__(self, problems: list[Problem] | Problem | str, *, dataset: str | None = None):
        if isinstance(problems, str):
            problems = [Problem("dataset", None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        self.dataset = dataset
        head = f"dataset {dataset}: " if dataset else ""
        if len(self.problems) == 1:
            msg = head + str(self.problems[0])
        else:
            msg = head + f"{len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(msg)


class DataImportError(TwinError, ValueError):
    """An importer could not read or convert its input (bad file, unknown CRS, missing columns)."""


class GraphError(TwinError, ValueError):
    """A walk-graph query failed (empty graph, no node within reach)."""


class OutputError(TwinError, OSError):
    """An output path cannot be written safely (a device, a directory that is not ours, ...)."""


class ProblemsError(TwinError, ValueError):
    """An error made of problems the user can fix, one line each (``problems``); the message is those
    lines joined by newlines, and the command line prints them one per line."""

    def __init__(self, problems: list[str] | str):
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class ScenarioError(ProblemsError):
    """A scenario file is missing, not valid YAML, or fails validation: one line per problem,
    ``FILE: field.path: got VALUE: expected WHAT``."""


class RunFolderError(TwinError, ValueError):
    """A run folder is missing, incomplete or unreadable (no summary.json, a broken table, ...)."""


class JSONFileError(TwinError, ValueError):
    """A JSON file of a dataset cannot be read: missing, not UTF-8, not JSON. The message names the
    file and the place (line, column, byte), never the file's contents."""


class CoverageError(TwinError, ValueError):
    """A coverage request that cannot be met: an unknown zone or level, a target out of reach."""


class SweepError(ProblemsError):
    """A sweep (``twin sweep``: many runs of one scenario) is invalid or cannot go on: a bad ``--vary``,
    a bad sweep file, an output folder that holds something else."""


class ProposalError(ProblemsError):
    """A living-lab proposal that cannot be stored or changed as asked (a bad field, an invalid change,
    an unknown proposal, a database that cannot be opened)."""


class ProposalConflict(ProposalError):
    """A proposal changed by someone else since the version the change started from."""
