"""The memory store: planning notes and past decisions in chromadb, scoped like the data.

Two kinds of memory live in one collection per embedding model: `note` (assumptions,
glossary, rules people add) and `decision` (each answered question with its recommendations
and run id). A memory carries the data scope it belongs to: a scoped user's notes and
decisions are visible to that scope and to all-data users; an all-data user's notes are
visible to everyone, their decisions to all-data users only (they may quote any region).

Processes share the store through a file lock: reads take it shared (many at once), writes
exclusive (waiting up to `lock_timeout`, then failing with the owner's PID); an operation reopens
the persistent client when another process wrote since (a generation marker), so a CLI command
and a running Slack bot interleave safely and each sees the other's writes. A decision, written
after every answered question, never waits: it goes to `pending/` (one small file, written
atomically) and is upserted by the first operation that gets the lock exclusively (its own, at
once, when no one else is reading), so 50 simultaneous askers neither queue on the store nor
lose a decision.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from memory.embedding import HashingEmbedding, embedding_key
from warehouse.errors import InputError, NotFoundError, PermissionDeniedError, WarehouseLockedError, storage_error
from warehouse.files import private_dir, write_atomically
from warehouse.identity import User, allowed

MAX_NOTE_CHARS = 2_000
Kind = Literal["note", "decision"]
_PROCESS_LOCK = threading.RLock()  # chromadb's client cache is process-wide: one operation at a time
_CLIENTS: dict[str, tuple[Any, str]] = {}  # folder -> (client, generation it has seen)


@functools.cache
def _chroma_settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


class MemoryLockedError(WarehouseLockedError):
    """Another process holds the memory store."""


@dataclass(frozen=True)
class Memory:
    memory_id: str
    kind: Kind
    text: str
    user_id: str
    created_at: str
    scope: str  # "all" or "region:EMEA", "segment:SMB", ...
    visibility: Literal["everyone", "scope"]
    run_id: str | None = None
    scenario: str | None = None
    recommended: str | None = None  # a decision's recommendations (kept out of the embedded text)
    topic: str | None = None  # a decision's tools and slice ("forecast|region=EMEA"): cited only on the same topic
    distance: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _visible_filter(user: User, kind: Kind | None) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if user.scope.kind != "all":
        clauses.append({"$or": [{"visibility": "everyone"}, {"scope": user.scope.key()}]})
    if kind is not None:
        clauses.append({"kind": kind})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _memory(memory_id: str, document: str, meta: dict[str, Any], distance: float | None = None) -> Memory:
    return Memory(
        memory_id=memory_id,
        kind=meta["kind"],
        text=document,
        user_id=meta.get("user_id", ""),
        created_at=meta.get("created_at", ""),
        scope=meta.get("scope", "all"),
        visibility=meta.get("visibility", "scope"),
        run_id=meta.get("run_id") or None,
        scenario=meta.get("scenario") or None,
        recommended=meta.get("recommended") or None,
        topic=meta.get("topic") or None,
        distance=None if distance is None else round(float(distance), 4),
    )


class MemoryStore:
    """Handle on the memory folder. Cheap to create; every method is one locked operation."""

    def __init__(self, folder: Path | str, embedding: Any = None, lock_timeout: float = 10.0) -> None:
        self.folder = Path(folder)
        self.embedding = embedding or HashingEmbedding()
        self.lock_timeout = lock_timeout
        self.collection_name = f"spm-memory-{embedding_key(self.embedding)}"

    # --- locking and the client ------------------------------------------------------------

    @contextmanager
    def _collection(self, *, writes: bool = False, wait: bool = True) -> Iterator[Any]:
        """The collection, under the store's lock; a disk that is full or refuses a write (here or
        inside chromadb's SQLite) becomes a `StorageError` naming the folder."""
        try:
            with self._locked_collection(writes=writes, wait=wait) as collection:
                yield collection
        except Exception as exc:
            problem = storage_error(exc, self.folder)
            if problem is None:
                raise
            raise problem from exc

    @contextmanager
    def _locked_collection(self, *, writes: bool, wait: bool = True) -> Iterator[Any]:
        private_dir(self.folder)  # notes and decisions: the folder is the account's own (0700)
        import chromadb  # noqa: F401 - imported before the lock: nobody waits for our imports

        # A store not created yet is created by this operation: that is a write.
        writes = writes or not (self.folder / "chroma.sqlite3").exists()
        with _PROCESS_LOCK:
            lock_path = self.folder / ".lock"
            handle = open(lock_path, "a+")  # noqa: SIM115 - held for the whole operation
            try:
                self._acquire(handle, lock_path, fcntl.LOCK_EX if writes else fcntl.LOCK_SH, wait)
                if writes:
                    handle.seek(0)
                    handle.truncate()
                    handle.write(str(os.getpid()))
                    handle.flush()
                collection = self._client().get_or_create_collection(
                    self.collection_name,
                    embedding_function=self.embedding,
                    configuration={"hnsw": {"space": "cosine"}},
                )
                if writes:
                    self._upsert(collection, self._take_pending())
                yield collection
                if writes:  # tell other processes (and our next operation) that the store changed
                    generation = uuid.uuid4().hex
                    (self.folder / ".generation").write_text(generation)
                    _CLIENTS[str(self.folder)] = (_CLIENTS[str(self.folder)][0], generation)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()

    def _client(self) -> Any:
        """The persistent client, reopened only when another process wrote since we last looked."""
        import chromadb
        from chromadb.api.client import SharedSystemClient

        marker = self.folder / ".generation"
        generation = marker.read_text() if marker.exists() else ""
        cached = _CLIENTS.get(str(self.folder))
        if cached is not None and cached[1] == generation:
            return cached[0]
        SharedSystemClient.clear_system_cache()  # drops every cached client in the process
        _CLIENTS.clear()
        client = chromadb.PersistentClient(path=str(self.folder), settings=_chroma_settings())
        _CLIENTS[str(self.folder)] = (client, generation)
        return client

    def _acquire(self, handle: Any, lock_path: Path, mode: int, wait: bool) -> None:
        deadline = time.monotonic() + (self.lock_timeout if wait else 0.0)
        while True:
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    owner = lock_path.read_text().strip() or "another process"
                    raise MemoryLockedError(
                        f"The memory store {self.folder} is busy (held by PID {owner}).",
                        "Wait for that command to finish, or raise SPM_LOCK_TIMEOUT.",
                    ) from None
                time.sleep(0.05)

    # --- writes -----------------------------------------------------------------------------

    def add_note(self, text: str, user: User) -> Memory:
        """Remember a planning assumption, rule or glossary entry (stored as data, never as an instruction)."""
        text = " ".join(text.split())
        if not text:
            raise InputError("The note is empty.", 'For example: spm memory add "Never move the Acme account"')
        if len(text) > MAX_NOTE_CHARS:
            raise InputError(f"The note is {len(text):,} characters; the limit is {MAX_NOTE_CHARS:,}.", "Shorten it.")
        memory = Memory(
            memory_id="note-" + uuid.uuid4().hex[:10],
            kind="note",
            text=text,
            user_id=user.user_id,
            created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            scope=user.scope.key(),
            visibility="everyone" if user.scope.kind == "all" else "scope",
        )
        self._put([memory])
        return memory

    def record_decision(
        self,
        *,
        run_id: str,
        question: str,
        actions: list[str],
        user: User,
        scenario: str | None = None,
        topic: str | None = None,
    ) -> Memory:
        """Remember an answered question and what was recommended, under its run id."""
        # Only the question is embedded, so a similar later question finds it; the actions ride along.
        memory = Memory(
            memory_id=f"decision-{run_id}",
            kind="decision",
            text=" ".join(question.split())[:MAX_NOTE_CHARS],
            user_id=user.user_id,
            created_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            scope=user.scope.key(),
            visibility="scope",
            run_id=run_id,
            scenario=scenario,
            recommended=" | ".join(actions)[: MAX_NOTE_CHARS * 2] or None,
            topic=topic,
        )
        pending = private_dir(self.folder / "pending")
        write_atomically(pending / f"{memory.memory_id}.json", json.dumps(memory.as_dict()))
        self.flush(wait=False)
        return memory

    def flush(self, *, wait: bool = True) -> int:
        """Upsert the decisions waiting in `pending/`; `wait=False`: only if the lock is free now
        (else the next writer does). Returns how many are still waiting."""
        if not self._pending_files():
            return 0
        try:
            with self._collection(writes=True, wait=wait):
                pass  # the exclusive operation itself upserts what is pending
        except MemoryLockedError:
            if wait:
                raise
        return len(self._pending_files())

    def _pending_files(self) -> list[Path]:
        folder = self.folder / "pending"
        return sorted(folder.glob("*.json")) if folder.is_dir() else []

    def _take_pending(self) -> list[tuple[Path | None, Memory]]:
        taken: list[tuple[Path | None, Memory]] = []
        for path in self._pending_files():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                taken.append((path, Memory(**{k: v for k, v in data.items() if k in Memory.__dataclass_fields__})))
            except (OSError, ValueError, TypeError):
                continue  # written atomically, so never half a file; unreadable otherwise: left for a person
        return taken

    def put_many(self, memories: list[Memory], batch: int = 1_000) -> None:
        """Store many memories at once (imports, benchmarks): one lock, batched upserts."""
        for start in range(0, len(memories), batch):
            self._put(memories[start : start + batch])

    def _put(self, memories: list[Memory]) -> None:
        with self._collection(writes=True) as collection:
            self._upsert(collection, [(None, m) for m in memories])

    @staticmethod
    def _upsert(collection: Any, items: list[tuple[Path | None, Memory]]) -> None:
        """Store memories; a pending file goes only after its memory is in."""
        if not items:
            return
        memories = [m for _, m in items]
        collection.upsert(
            ids=[m.memory_id for m in memories],
            documents=[m.text for m in memories],
            metadatas=[
                {
                    "kind": m.kind,
                    "user_id": m.user_id,
                    "created_at": m.created_at,
                    "scope": m.scope,
                    "visibility": m.visibility,
                    "run_id": m.run_id or "",
                    "scenario": m.scenario or "",
                    "recommended": m.recommended or "",
                    "topic": m.topic or "",
                }
                for m in memories
            ],
        )
        for path, _ in items:
            if path is not None:
                path.unlink(missing_ok=True)

    def forget(self, memory_id: str, user: User) -> Memory:
        """Remove a memory for good. Its author or an admin may; others get a clear refusal."""
        memory = self.get(memory_id, user)
        if memory.user_id != user.user_id and not allowed(user.role, "forget_any_memory"):
            raise PermissionDeniedError(
                f"{memory_id} was added by {memory.user_id}; only they or an admin may forget it."
            )
        with self._collection(writes=True) as collection:
            collection.delete(ids=[memory_id])
        return memory

    # --- reads ------------------------------------------------------------------------------

    def get(self, memory_id: str, user: User) -> Memory:
        with self._collection() as collection:
            found = collection.get(ids=[memory_id], include=["documents", "metadatas"])
        if not found["ids"] or not self._visible(found["metadatas"][0], user):
            raise NotFoundError(f"No memory {memory_id}.", "List them with spm memory list.")
        return _memory(found["ids"][0], found["documents"][0], found["metadatas"][0])

    @staticmethod
    def _visible(meta: dict[str, Any], user: User) -> bool:
        return user.scope.kind == "all" or meta.get("visibility") == "everyone" or meta.get("scope") == user.scope.key()

    def search(self, query: str, user: User, k: int = 5, kind: Kind | None = None) -> list[Memory]:
        """The `k` memories most similar to `query` that `user` may see, nearest first."""
        if not query.strip():
            raise InputError("The search text is empty.")
        with self._collection() as collection:
            if collection.count() == 0:
                return []
            found = collection.query(
                query_texts=[query],
                n_results=k,
                where=_visible_filter(user, kind),
                include=["documents", "metadatas", "distances"],
            )
        return [
            _memory(i, d, m, dist)
            for i, d, m, dist in zip(
                found["ids"][0], found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True
            )
        ]

    def list(self, user: User, kind: Kind | None = None, limit: int = 50) -> list[Memory]:
        """What `user` may see, newest first."""
        with self._collection() as collection:
            found = collection.get(where=_visible_filter(user, kind), include=["documents", "metadatas"])
        memories = [
            _memory(i, d, m) for i, d, m in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        ]
        return sorted(memories, key=lambda m: (m.created_at, m.memory_id), reverse=True)[:limit]

    def count(self) -> int:
        with self._collection() as collection:
            return collection.count()
