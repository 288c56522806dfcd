"""Imports of company data: the native format (CSV/Parquet per table) and Salesforce exports."""

from warehouse.importers.run import ImportReport, import_files

__all__ = ["ImportReport", "import_files"]
