"""Column mapping files: a CRM's own headers renamed to the native columns before validation.

A company's export rarely uses our column names (`Region__c`, `Customer Number`). Rather than
editing every file, `spm data import --map mapping.yaml` reads a small YAML file:

    columns:            # every file
      Region__c: region
    tables:             # one table (or Salesforce/HubSpot export kind) only
      accounts:
        Customer Number: account_id

Source headers match the way native headers do (`reading.normalize_header`: case, surrounding
spaces, inner spaces and dashes are ignored). A table's own entry wins over a `columns` entry
for the same source header or the same target column, so `columns` can hold a company-wide
rule and `tables` its exceptions. Every problem in the file (not YAML, wrong shape, an unknown
table, a target that is no column of its table, two headers onto one column) is an
`InputError` naming the entry and the fix, before anything is imported.

`suggest_columns` is the fuzzy matching behind "unknown column 'Regoin' — did you mean region?".
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from warehouse.errors import InputError
from warehouse.importers.reading import normalize_header
from warehouse.importers.specs import SPECS

MAX_MAPPING_BYTES = 1_000_000  # a mapping is a few dozen lines; a bigger file is the wrong file
SCORE_CUTOFF = 80.0  # rapidfuzz ratio (0-100): 'regoin' ~ 'region' scores 83, 'amount' ~ 'account' 62
_SECTIONS = ("columns", "tables")
_SALESFORCE_SUFFIX = re.compile(r"__c$")  # custom fields: Region__c
_EXPORT_MODULES = ("salesforce", "hubspot")  # modules of warehouse.importers with HEADER_MAPS per export kind


@dataclass(frozen=True)
class ColumnMapping:
    """Source header -> native column, for every file (`columns`) and per table or export kind
    (`tables`); keys are normalised source headers, values native column names."""

    columns: dict[str, str] = field(default_factory=dict)
    tables: dict[str, dict[str, str]] = field(default_factory=dict)

    def for_table(self, table: str) -> dict[str, str]:
        """The renames for one table's file: normalised source header -> native column.

        `columns` entries whose target is not a column of `table` are left out (a company-wide
        `Region__c: region` means nothing to quotas.csv); the table's own entries replace any
        `columns` entry with the same source or the same target."""
        own = {normalize_header(k): v for k, v in self.tables.get(table, {}).items()}
        allowed = targets_of(table)
        merged = {
            normalize_header(source): target
            for source, target in self.columns.items()
            if (not allowed or target in allowed) and target not in own.values()
        }
        merged.update(own)
        return merged


def export_kinds() -> dict[str, dict[str, str]]:
    """Export kind -> {export header: column} of the CRM export readers present (Salesforce,
    HubSpot), looked up by name so this module does not depend on which readers exist."""
    kinds: dict[str, dict[str, str]] = {}
    for name in _EXPORT_MODULES:
        try:
            module = importlib.import_module(f"warehouse.importers.{name}")
        except ModuleNotFoundError:
            continue
        header_maps = getattr(module, "HEADER_MAPS", {})
        for kind, headers in header_maps.items():
            kinds.setdefault(str(kind), {}).update({str(k): str(v) for k, v in dict(headers).items()})
    return kinds


def targets_of(table: str) -> set[str]:
    """The columns a mapping may rename onto for `table`: its native columns, and for a CRM
    export kind the columns its reader understands (`owner_name`, `manager_name`, ...)."""
    names = {c.name for c in SPECS[table].columns} if table in SPECS else set()
    names |= set(export_kinds().get(table, {}).values())
    return names


def mapping_tables() -> list[str]:
    """Every name a mapping's `tables` section may use: the native tables, then export kinds."""
    return list(SPECS) + sorted(set(export_kinds()) - set(SPECS))


def load_mapping(path: Path) -> ColumnMapping:
    """Read and check a mapping file; an `InputError` names the first problem and its fix."""
    try:
        if path.stat().st_size > MAX_MAPPING_BYTES:
            raise InputError(
                f"The mapping file {path} is larger than {MAX_MAPPING_BYTES // 1_000_000} MB.",
                "A mapping lists header renames (a few lines); check you gave --map the mapping, not a data file.",
            )
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"No mapping file at {path}.", "Give --map the path of a YAML mapping file.") from None
    except IsADirectoryError:
        raise InputError(f"--map {path} is a folder.", "Give --map the path of a YAML mapping file.") from None
    except UnicodeDecodeError:
        raise InputError(f"The mapping file {path} is not UTF-8 text.", "Save it as UTF-8 YAML.") from None
    except OSError as exc:
        raise InputError(f"Cannot read the mapping file {path}: {exc.strerror}.") from exc
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid syntax"
        raise InputError(
            f"The mapping file {path} is not valid YAML{where}: {problem}.",
            f"Write it as YAML: {_EXAMPLE}",
        ) from None
    return parse_mapping(document, str(path))


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, refusing a key given twice in one mapping: plain YAML keeps the last
    silently, which would drop one of two conflicting renames without a word."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable):  # an unhashable key fails in the base class, with its own message
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} is given twice", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_EXAMPLE = "`columns:` then `  Region__c: region` lines, and/or `tables:` then `  accounts:` then `    Customer Number: account_id`."


def parse_mapping(document: object, source: str = "the mapping") -> ColumnMapping:
    """A parsed YAML document as a checked `ColumnMapping` (see `load_mapping`)."""
    if document is None:
        raise InputError(f"{source} is empty.", f"List the header renames: {_EXAMPLE}")
    if not isinstance(document, Mapping):
        raise InputError(
            f"{source} must be a YAML mapping with `columns` and/or `tables`, not a {_kind(document)}.", _EXAMPLE
        )
    unknown = [str(k) for k in document if k not in _SECTIONS]
    if unknown:
        raise InputError(
            f"{source}: unknown section {unknown[0]!r}{_did_you_mean(unknown[0], _SECTIONS)}.",
            "A mapping has two sections: `columns` (every file) and `tables` (per table).",
        )
    every = document.get("columns")
    columns = _renames(every, f"{source}, `columns`", allowed=None) if every is not None else {}
    tables: dict[str, dict[str, str]] = {}
    per_table = document.get("tables")
    if per_table is not None:
        if not isinstance(per_table, Mapping):
            raise InputError(
                f"{source}, `tables`: expected one entry per table, not a {_kind(per_table)}.",
                "Write `tables:` then `  accounts:` then `    Customer Number: account_id`.",
            )
        names = mapping_tables()
        for table, renames in per_table.items():
            if not isinstance(table, str) or table not in names:
                raise InputError(
                    f"{source}, `tables`: unknown table {table!r}{_did_you_mean(str(table), names)}.",
                    f"Tables: {', '.join(names)}.",
                )
            if renames is None:
                continue  # `accounts:` with nothing under it yet
            tables[table] = _renames(renames, f"{source}, table `{table}`", allowed=targets_of(table))
    if not columns and not any(tables.values()):
        raise InputError(f"{source} maps no columns.", f"List the header renames: {_EXAMPLE}")
    return ColumnMapping(columns=columns, tables=tables)


def _renames(section: object, where: str, allowed: set[str] | None) -> dict[str, str]:
    """One section's `source: target` pairs, checked; `allowed` None means any table's column."""
    if not isinstance(section, Mapping):
        raise InputError(
            f"{where}: expected `Source header: column` lines, not a {_kind(section)}.",
            "Write one `Source header: column` per line under it.",
        )
    known = (
        sorted(allowed) if allowed is not None else sorted({t for table in mapping_tables() for t in targets_of(table)})
    )
    renames: dict[str, str] = {}
    spelled: dict[str, str] = {}  # normalised source -> as written, for messages
    by_target: dict[str, str] = {}
    for source, target in section.items():
        if not isinstance(source, str) or not source.strip():
            raise InputError(
                f"{where}: a header reads as {source!r} (a {_kind(source)}), not as text.",
                "Quote headers YAML reads as numbers, booleans or dates: `'2024': amount`, `'Yes': is_won`.",
            )
        if not isinstance(target, str) or not target.strip():
            raise InputError(
                f"{where}: {source!r} maps to {target!r}, not to a column name.",
                f"Map it to one of: {', '.join(known)}."
                if allowed is not None
                else "Map it to a column of the tables its files fill (docs/data-format.md lists them).",
            )
        key, column = normalize_header(source), normalize_header(target)
        if column not in known:
            raise InputError(
                f"{where}: {source!r} maps to {target!r}, which is not a column"
                f"{' of that table' if allowed is not None else ' of any table'}"
                f"{_did_you_mean(column, known)}.",
                f"Columns: {', '.join(known)}."
                if allowed is not None
                else "Map it to a column of the tables its files fill (docs/data-format.md lists them).",
            )
        if key in renames:
            raise InputError(
                f"{where}: the header {source!r} is listed twice (as {spelled[key]!r} too; case and spaces are ignored).",
                "Keep one of the two lines.",
            )
        if column in by_target:
            raise InputError(
                f"{where}: two headers map onto {column!r}: {by_target[column]!r} and {source!r}.",
                "A column can come from one header only: remove one line (or map it to another column).",
            )
        renames[key] = column
        spelled[key] = source
        by_target[column] = source
    return renames


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    found = suggest_columns([name], list(known)).get(name)
    return f" (did you mean {found!r}?)" if found else ""


def _squash(name: str) -> str:
    """A header reduced to what identifies it: lower case, no Salesforce `__c`, no separators."""
    text = _SALESFORCE_SUFFIX.sub("", normalize_header(name))
    return re.sub(r"[\s_\-]+", "", text)


def suggest_columns(unknown: list[str], known: list[str]) -> dict[str, str]:
    """Unknown header -> the known column it most likely means (`Regoin` -> `region`,
    `Region__c` -> `region`, `Close Date` -> `close_date`), for those with a close enough match.

    Headers are compared squashed (lower case, without a Salesforce `__c` suffix, underscores,
    spaces and dashes); an exact squashed match wins, else the best rapidfuzz ratio at or above
    `SCORE_CUTOFF`. A known column is suggested for one unknown header at most, the closest."""
    from rapidfuzz import fuzz, process

    squashed = {_squash(k): k for k in known if _squash(k)}
    best: dict[str, tuple[float, str]] = {}  # known column -> (score, unknown header)
    for name in unknown:
        probe = _squash(name)
        if not probe:
            continue
        if probe in squashed:
            match, score = squashed[probe], 101.0  # above any fuzzy score
        else:
            found = process.extractOne(probe, list(squashed), scorer=fuzz.ratio, score_cutoff=SCORE_CUTOFF)
            if found is None:
                continue
            match, score = squashed[found[0]], float(found[1])
        if match not in best or score > best[match][0]:
            best[match] = (score, name)
    return {name: match for match, (_, name) in sorted(best.items(), key=lambda kv: unknown.index(kv[1][1]))}
