"""Private files and folders: what spm creates for itself is readable by its own account only.

The warehouse, its write-ahead log, the conversation threads, the memory store, the planner
cache and import rejects hold company data, so spm creates them 0600 (files) and 0700
(folders) whatever the process umask. The mode is set when the file is created, never by a
chmod afterwards (which would leave a moment when the file is readable), and only for what spm
creates: a file or folder that already exists keeps the mode its owner gave it.

Libraries that create files themselves (DuckDB's database and WAL, SQLite's journals, chromadb's
segments) get `private_files()`, a process-wide umask of 077 for the duration of the work.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700

# The umask is one value per process: nested and concurrent users share one stricter setting,
# and the last one out restores the original (a plain save/restore per user would let two
# threads that interleave leave the stricter mask behind for good, or lift it too early).
_umask_guard = threading.Lock()
_umask_users = 0
_umask_saved = 0


@contextmanager
def private_files() -> Iterator[None]:
    """Files and folders created inside are 0600/0700 (umask 077, added to the current one).

    Other threads creating files meanwhile get the stricter mode too: never a looser one.
    """
    global _umask_users, _umask_saved
    with _umask_guard:
        if _umask_users == 0:
            _umask_saved = os.umask(0o077)
            os.umask(_umask_saved | 0o077)  # keep any stricter bits the user already had
        _umask_users += 1
    try:
        yield
    finally:
        with _umask_guard:
            _umask_users -= 1
            if _umask_users == 0:
                os.umask(_umask_saved)


def private_dir(path: Path | str) -> Path:
    """`path` as a folder: the missing parts created 0700, an existing folder left as it is."""
    path = Path(path)
    if not path.is_dir():
        with private_files():  # mkdir's parents ignore `mode`; the umask covers them too
            path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return path


def private_file(path: Path | str) -> Path:
    """`path` as a file: created empty and 0600 (its folder as `private_dir`) if missing; an
    existing file keeps its mode. For libraries that open a file they find (SQLite) or append."""
    path = Path(path)
    if not path.exists():
        private_dir(path.parent)
        with contextlib.suppress(FileExistsError):  # another process created it meanwhile: as good
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
    return path


def write_atomically(path: Path | str, text: str) -> None:
    """Write all or nothing: a temporary file in the same folder, renamed over the target.

    A new file is 0600; a file that exists keeps its mode (it is the user's). A full disk or a
    refused write leaves the old file, or none, never half a file.
    """
    path = Path(path)
    private_dir(path.parent)
    mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else PRIVATE_FILE
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp: 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        if mode != PRIVATE_FILE:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
