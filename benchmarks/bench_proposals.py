"""Open-data export and import of many proposals, against a bare SQLite insert of the same rows.

    python benchmarks/bench_proposals.py [--sizes 1000,4000] [--comments 3] [--votes 5]

For each size N: a SQLite database of N proposals, each with comments and votes (written in bulk,
not timed), is exported to a package, and the package is imported into an empty database. The
baseline, in the same run, inserts the same number of rows with ``sqlite3.executemany`` (no
validation, no ORM): the ratio, not the seconds, is what to compare between machines. The growth
from the smallest to the largest size says whether the cost is proportional to the rows (a ratio
of the sizes) or worse (the import was quadratic before the review of issue 20).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from twin.proposals.opendata import export_package, import_package
from twin.proposals.records import Comment, Proposal, Vote
from twin.proposals.store import open_store
from twin.resources import shipped_scenarios

SCENARIO = str(shipped_scenarios() / "flash_flood_jungnangcheon.yaml")


def fill(url: str, n: int, comments: int, votes: int) -> None:
    """N proposals with their comments and votes, in one transaction (not validated: the rows are ours)."""
    store = open_store(url)
    with store.transaction() as s:
        for i in range(n):
            p = Proposal(title_ko=f"제안 {i}", title_en=f"Proposal {i}", author=f"모임 {i % 50}", scenario=SCENARIO,
                         overrides=["thresholds.LS-1018665.attention_m=1.5"], dataset_patch={}, status="draft",
                         description_ko="설명", description_en="why")
            s.add(p)
            s.flush()
            s.add_all(Comment(proposal_id=p.id, participant=f"시민 {(i + k) % 200}", text=f"의견 {k}",
                              public_name=k == 0) for k in range(comments))
            s.add_all(Vote(proposal_id=p.id, participant=f"시민 {(i + k) % 200}", value=1 if k % 3 else -1)
                      for k in range(votes))
    store.engine.dispose()


def bare_insert(path: Path, rows: int) -> float:
    """Seconds to insert ``rows`` rows of three text columns with executemany (the baseline)."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (a TEXT, b TEXT, c TEXT)")
        t0 = time.perf_counter()
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", ((str(i), "가나다", "xyz") for i in range(rows)))
        conn.commit()
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,4000", help="numbers of proposals, comma-separated")
    ap.add_argument("--comments", type=int, default=3)
    ap.add_argument("--votes", type=int, default=5)
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n in sizes:
            src, dst = root / f"src{n}.sqlite", root / f"dst{n}.sqlite"
            fill(f"sqlite:///{src}", n, args.comments, args.votes)
            store = open_store(f"sqlite:///{src}")
            t0 = time.perf_counter()
            export_package(store, root / f"pkg{n}")
            t_export = time.perf_counter() - t0
            target = open_store(f"sqlite:///{dst}")
            t0 = time.perf_counter()
            got = import_package(target, root / f"pkg{n}")
            t_import = time.perf_counter() - t0
            rows = n * (1 + args.comments + args.votes)
            t_bare = bare_insert(root / f"bare{n}.sqlite", rows)
            assert got["proposals"] == n
            results.append((n, rows, t_export, t_import, t_bare))
            print(f"{n:>6} proposals ({rows} rows): export {t_export:6.2f} s, import {t_import:6.2f} s "
                  f"({rows / t_import:,.0f} rows/s); bare executemany {t_bare:.3f} s: import/bare "
                  f"{t_import / t_bare:,.0f}x")
    (n0, r0, e0, i0, _), (n1, r1, e1, i1, _) = results[0], results[-1]
    print(f"from {n0} to {n1} proposals (rows x{r1 / r0:.1f}): export x{e1 / e0:.1f}, import x{i1 / i0:.1f} "
          "(proportional when close to the rows' factor)")


if __name__ == "__main__":
    main()
