"""Memory retrieval latency with 10,000 stored decisions (offline hashing embedding, chromadb).

Each search is one full store operation as the agent does it: take the file lock, reopen the
persistent client (so other processes' writes are seen), embed the query, query the HNSW
index with the user's scope filter.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.agent_speed import _percentile
from bench.report import table, write_section

DECISIONS = 10_000
QUERIES = 60
TOPICS = [
    "raise {r} quotas {p}%",
    "forecast {r} bookings next quarter",
    "rebalance {r} {s} territories within {p}%",
    "how many AEs to hire in {r} {s}",
    "win rate by segment in {r}",
    "pipeline coverage for {r} {s}",
    "cut {s} quotas {p}% in {r}",
    "capacity plan for {r} with {p}% attrition",
]


def run() -> None:
    from memory.store import Memory, MemoryStore
    from warehouse.identity import Scope, User

    rng = random.Random(7)
    regions, segments = ["NA", "EMEA", "APAC", "LATAM"], ["Enterprise", "Mid-Market", "SMB"]
    admin = User("admin", "admin", Scope.everything())
    emea = User("emea-lead", "leader", Scope("region", "EMEA"))

    def text() -> str:
        return rng.choice(TOPICS).format(r=rng.choice(regions), s=rng.choice(segments), p=rng.choice([5, 10, 15, 20]))

    with tempfile.TemporaryDirectory() as tmp:
        store = MemoryStore(Path(tmp) / "memory")
        memories = [
            Memory(
                memory_id=f"decision-run-{i:06d}",
                kind="decision",
                text=text(),
                user_id="cro" if i % 3 else "emea-lead",
                created_at=f"2026-{1 + i % 11:02d}-{1 + i % 28:02d}T09:00:00+00:00",
                scope="all" if i % 3 else "region:EMEA",
                visibility="scope",
                run_id=f"run-{i:06d}",
                recommended="Revisit the target | Open 2 requisitions",
            )
            for i in range(DECISIONS)
        ]
        started = time.perf_counter()
        store.put_many(memories)
        load = time.perf_counter() - started
        queries = [text() for _ in range(QUERIES)]
        timings: dict[str, list[float]] = {"all-data user": [], "EMEA-scoped user": []}
        for who, user in (("all-data user", admin), ("EMEA-scoped user", emea)):
            store.search("warm up", user, k=3)
            for q in queries:
                t = time.perf_counter()
                found = store.search(q, user, k=3)
                timings[who].append(time.perf_counter() - t)
                assert len(found) == 3
                assert user is admin or all(m.scope == "region:EMEA" for m in found)
        stored = store.count()
    rows = [
        [who, f"{statistics.median(v) * 1000:.0f} ms", f"{_percentile(v, 0.95) * 1000:.0f} ms"]
        for who, v in timings.items()
    ]
    md = "## Memory: retrieval latency with 10,000 decisions\n\n"
    md += (
        f"{stored:,} decisions stored in {load:.1f} s (batched upserts, offline 1,024-dim hashing embedding); "
        f"{QUERIES} searches per user, top 3, each a full locked store operation (lock, reopen, embed, query):\n\n"
    )
    md += table(["user", "p50", "p95"], rows)
    write_section("memory_speed", md)
