"""Documentation that is generated must match its source."""

from __future__ import annotations

from pathlib import Path

from warehouse.importers.specs import SPECS, markdown

ROOT = Path(__file__).resolve().parents[1]


def test_data_format_doc_matches_the_import_specs() -> None:
    doc = (ROOT / "docs" / "data-format.md").read_text()
    assert doc == markdown(), "regenerate: python -m warehouse.importers.specs > docs/data-format.md"
    for spec in SPECS.values():
        for column in spec.columns:
            assert f"`{column.name}`" in doc


def test_readme_names_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
