"""The code version recorded with every audited run: package version + a hash of the
planning tools' source, so a replay can tell "the code changed" from "the data changed"."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


@cache
def code_version() -> str:
    try:
        package = version("spm-agent")
    except PackageNotFoundError:
        package = "dev"
    import tools

    digest = hashlib.sha256()
    root = Path(tools.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return f"{package}+tools.{digest.hexdigest()[:12]}"
