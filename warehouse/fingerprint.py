"""Data fingerprints: a short hash of the content of the tables a result was computed from.

Order-independent (a sum of row hashes), so the same data gives the same fingerprint however
it was loaded, and any changed, added or removed row changes it. Replaying a recorded tool
call compares fingerprints to tell "the data changed" from "the code changed".
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from typing import Any

# Tables a fingerprint may cover (names are interpolated into SQL, so they are allow-listed).
FINGERPRINT_TABLES = frozenset(
    {
        "regions",
        "segments",
        "products",
        "stages",
        "geos",
        "territories",
        "territory_geos",
        "reps",
        "accounts",
        "opportunities",
        "opportunity_history",
        "bookings",
        "quotas",
        "targets",
        "comp_plans",
        "headcount_plan",
        "scenarios",
        "scenario_changes",
        "meta",
        "users",
        "imports",
        "forecast_calls",
    }
)


# Fingerprints of a file version (a read cursor's `version`): hashing ten million history rows
# takes seconds, and a planning session fingerprints the same unchanged tables on every call.
_MEMO_SIZE = 256
_memo: dict[tuple[Any, ...], str] = {}
_memo_lock = threading.Lock()


def fingerprint(cur: Any, tables: Iterable[str]) -> str:
    """`sha256:` + 16 hex digits over the named tables' row counts and content hashes."""
    names = tuple(sorted(set(tables)))
    unknown = [t for t in names if t not in FINGERPRINT_TABLES]
    if unknown:
        raise ValueError(f"cannot fingerprint unknown table {unknown[0]!r}")
    version = getattr(cur, "version", None)  # None inside a write transaction: always hashed
    key = (version, names)
    if version is not None:
        with _memo_lock:
            if key in _memo:
                return _memo[key]
    digest = hashlib.sha256()
    for table in names:
        count, total = cur.execute(f"SELECT count(*), sum(hash(t)) FROM {table} t").fetchone()
        digest.update(f"{table}:{count}:{total}".encode())
    result = "sha256:" + digest.hexdigest()[:16]
    if version is not None:
        with _memo_lock:
            if len(_memo) >= _MEMO_SIZE:
                _memo.clear()
            _memo[key] = result
    return result
