"""CRM export shapes: every ordinary Salesforce and HubSpot export imports, or fails with an
error naming what is missing and where to add it.

Fixtures live in data/samples/salesforce/{standard_reports,formatted,data_export} and
data/samples/hubspot; the .xlsx exports are written here at run time with openpyxl (no
binaries in the repository).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.importers import import_files
from warehouse.importers.run import ImportReport

ROOT = Path(__file__).resolve().parents[1]
SF = ROOT / "data" / "samples" / "salesforce"
HS = ROOT / "data" / "samples" / "hubspot"
TODAY = date(2026, 11, 30)


def rows(wh: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    with wh.reader() as cur:
        return [tuple(r) for r in cur.execute(sql).fetchall()]


def by_key(wh: Warehouse, sql: str) -> dict[Any, tuple[Any, ...]]:
    return {r[0]: r[1:] for r in rows(wh, sql)}


def notes_of(report: ImportReport, file: str) -> str:
    return " ".join(n for f in report.files if f.file == file for n in f.notes)


def clean(report: ImportReport) -> None:
    assert report.committed, report.rejections
    assert report.rejected == 0, report.rejections.to_dict("records")
    assert report.read == report.loaded


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def workbook(path: Path, sheet_rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in sheet_rows:
        sheet.append(row)
    book.save(path)
    return path


# --- Salesforce ------------------------------------------------------------------------------


def test_salesforce_standard_reports_users_accounts_opportunities_history(empty: Warehouse) -> None:
    report = import_files(empty, [SF / "standard_reports"], format="salesforce", today=TODAY)
    clean(report)
    assert [(f.file, f.table, f.loaded) for f in report.files] == [
        ("Users.csv", "reps", 6),
        ("Accounts.csv", "accounts", 5),
        ("Opportunities.csv (stages)", "stages", 5),
        ("Opportunities.csv", "opportunities", 5),
        ("OpportunityHistory.csv (stages)", "stages", 1),  # only the stage no opportunity had
        ("OpportunityHistory.csv", "opportunity_history", 7),
    ]

    # Users: a standard Users report (no hire date) imports; what was derived is said.
    reps = by_key(empty, "SELECT name, role, region, manager_id, hire_date, end_date::VARCHAR FROM reps")
    assert reps["Alicia Moreno"] == ("Manager", None, None, None, None)
    assert reps["Ben Carter"] == ("Manager", "NA", "0055e000002Us01", None, None)  # Division: North America
    assert reps["Chloe Dubois"][:2] == ("AE", "EMEA")
    assert reps["Maya Okafor"][:3] == ("AE", "NA", "0055e000002Us02")  # region from Role "NA AE"
    assert reps["Raj Patel"] == ("SDR", "APAC", "0055e000002Us02", None, "2026-11-30")  # inactive
    assert reps["Sam Lee"][:2] == ("SE", None)
    users = notes_of(report, "Users.csv")
    assert "hire_date left empty" in users and "Region derived from Division / Role for 4 users" in users
    assert "1 inactive user without a deactivation date: end_date set to 2026-11-30" in users

    # Accounts: parents by id and by name, regions from countries, segments from employees.
    accounts = by_key(
        empty,
        "SELECT name, parent_account_id, owner_rep_id, country, region, segment, zip, employees, annual_revenue "
        "FROM accounts",
    )
    assert accounts["Globex Holdings, Inc."][:6] == (None, "0055e000002Us02", "US", "NA", "Enterprise", "60601")
    assert accounts["Globex Europe GmbH"][:5] == ("0015e00000Ac001", "0055e000002Us03", "DE", "EMEA", "Mid-Market")
    assert accounts["Globex Logistics"][0] == "0015e00000Ac001"  # Parent Account (a name) only
    assert accounts["Globex Logistics"][5] == "07102"  # a spreadsheet's 4-digit ZIP, padded
    assert accounts["Sakura Robotics KK"][2:5] == ("JP", "APAC", "Enterprise")
    assert accounts["Andes Mining SA"][0] is None and accounts["Andes Mining SA"][2:5] == ("CL", "LATAM", "SMB")
    assert accounts["Andes Mining SA"][7] == 1234.5
    assert "Andes Group Holdings" in notes_of(report, "Accounts.csv")

    # Opportunities: linked by account name (no Account ID column), closed/won from the stage,
    # Region__c / Segment__c read and compared with the account.
    opps = by_key(
        empty,
        "SELECT opp_id, account_id, owner_rep_id, amount, close_date::VARCHAR, is_closed, is_won, "
        "forecast_category, type FROM opportunities",
    )
    assert opps["0065e00000Op101"] == (
        "0015e00000Ac001",
        "0055e000002Us02",
        1_250_000.0,
        "2026-11-29",
        True,
        True,
        "Closed",
        "Renewal",
    )
    assert opps["0065e00000Op102"][2:] == (84_500.5, "2026-12-15", False, False, "Commit", "New Business")
    assert opps["0065e00000Op103"][4:6] == (True, False)
    assert opps["0065e00000Op105"][0] == "0015e00000Ac005" and opps["0065e00000Op105"][7] == "Expansion"
    notes = notes_of(report, "Opportunities.csv")
    assert "No Closed or Won column: derived from each row's stage" in notes
    assert "it differs from the account's on 1 row" in notes

    # History: seq per opportunity in date-time order (the file is shuffled; two changes on
    # 8/20 are told apart by their time), new stages created, existing ones untouched.
    history = rows(
        empty, "SELECT opp_id, seq, changed_date::VARCHAR, stage, amount FROM opportunity_history ORDER BY 1, 2"
    )
    assert history == [
        ("0065e00000Op101", 1, "2026-06-01", "Prospecting", 1_100_000.0),
        ("0065e00000Op101", 2, "2026-07-15", "Id. Decision Makers", 1_250_000.0),
        ("0065e00000Op101", 3, "2026-11-29", "Closed Won", 1_250_000.0),
        ("0065e00000Op102", 1, "2026-08-20", "Qualification", 75_000.0),
        ("0065e00000Op102", 2, "2026-08-20", "Qualification", 90_000.0),
        ("0065e00000Op102", 3, "2026-11-02", "Negotiation/Review", 84_500.5),
        ("0065e00000Op104", 1, "2026-10-14", "Qualification", 230_000.0),
    ]
    stages = by_key(empty, "SELECT name, default_probability, is_closed FROM stages")
    assert stages["Id. Decision Makers"] == (0.6, False)
    assert stages["Negotiation/Review"] == (0.9, False)  # from the Opportunities export, not history


def test_formatted_report_csv_finds_its_header_and_drops_title_and_footer_rows(empty: Warehouse) -> None:
    base = SF / "standard_reports"
    report = import_files(
        empty,
        [base / "Users.csv", base / "Accounts.csv", SF / "formatted" / "Pipeline_formatted.csv"],
        format="salesforce",
    )
    clean(report)
    pipeline = next(f for f in report.files if f.file == "Pipeline_formatted.csv")
    assert (pipeline.read, pipeline.loaded) == (3, 3)
    notes = notes_of(report, "Pipeline_formatted.csv")
    assert "the header is on row 8; 5 title/filter rows above it skipped" in notes
    assert "4 non-data rows" in notes and "Grand Totals (3 records)" in notes and "Confidential Information" in notes
    assert "Grand Totals count" not in notes  # the stated count matches the rows read
    opps = by_key(empty, "SELECT opp_id, name, account_id, amount, close_date::VARCHAR FROM opportunities")
    assert opps["0065e00000Op202"] == ("Globex EU - Support, Premium", "0015e00000Ac002", 60_000.0, "2027-01-15")
    assert set(opps) == {"0065e00000Op201", "0065e00000Op202", "0065e00000Op203"}


def test_formatted_report_xlsx_with_subtotals(empty: Warehouse, tmp_path: Path) -> None:
    base = SF / "standard_reports"
    xlsx = workbook(
        tmp_path / "Opportunities by Owner.xlsx",
        [
            ["Opportunities by Owner"],
            ["Filtered By: Close Date equals CURRENT FY"],
            [],
            [
                "Opportunity ID",
                "Opportunity Name",
                "Account ID",
                "Opportunity Owner",
                "Stage",
                "Amount",
                "Close Date",
                "Created Date",
                "Forecast Category",
                None,
            ],
            [
                "0065e00000Op401",
                "Globex - Edge",
                "0015e00000Ac001",
                "Ben Carter",
                "Closed Won",
                98000.0,
                datetime(2026, 10, 30),
                datetime(2026, 5, 1),
                "Closed",
            ],
            [
                "0065e00000Op402",
                "Sakura - Arms, Large",
                "0015e00000Ac004",
                "Raj Patel",
                "Prospecting",
                1234.5,
                date(2027, 2, 27),
                date(2026, 11, 2),
                "Pipeline",
            ],
            ["Subtotal", None, None, None, None, 99234.5],
            [
                "0065e00000Op403",
                "Andes - Sensors",
                "0015e00000Ac005",
                "sam.lee@example.com",
                "Closed Lost",
                7000,
                "11/29/2026",
                "8/1/2026",
                "Omitted",
            ],
            ["Grand Totals (3 records)", None, None, None, None, 106234.5],
            [],
            ["Confidential Information - Do Not Distribute"],
            ["Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."],
        ],
    )
    report = import_files(empty, [base / "Users.csv", base / "Accounts.csv", xlsx], format="salesforce")
    clean(report)
    notes = notes_of(report, xlsx.name)
    assert "the header is on row 4; 2 title/filter rows above it skipped" in notes
    assert "4 non-data rows" in notes and "Subtotal" in notes
    opps = by_key(
        empty,
        "SELECT opp_id, name, amount, close_date::VARCHAR, created_date::VARCHAR, owner_rep_id, is_won FROM opportunities",
    )
    assert opps == {
        "0065e00000Op401": ("Globex - Edge", 98_000.0, "2026-10-30", "2026-05-01", "0055e000002Us02", True),
        "0065e00000Op402": ("Sakura - Arms, Large", 1234.5, "2027-02-27", "2026-11-02", "0055e000002Us05", False),
        "0065e00000Op403": ("Andes - Sensors", 7000.0, "2026-11-29", "2026-08-01", "0055e000002Us06", False),
    }


def test_summary_report_group_values_are_filled_down(empty: Warehouse, tmp_path: Path) -> None:
    """A summary report writes each group's owner and stage once, on the group's first row."""
    base = SF / "standard_reports"
    header = ["Opportunity Owner", "Stage", "Opportunity ID", "Opportunity Name", "Account ID", "Amount"]
    header += ["Close Date", "Created Date"]
    dates = [date(2027, 1, 15), date(2026, 9, 1)]
    xlsx = workbook(
        tmp_path / "Pipeline by Owner and Stage.xlsx",
        [
            ["Pipeline by Owner and Stage"],
            [],
            header,
            ["Ben Carter", "Prospecting", "0065e00000Op501", "Globex - A", "0015e00000Ac001", 1000, *dates],
            [None, None, "0065e00000Op502", "Globex - B", "0015e00000Ac001", 2000, *dates],
            ["Subtotal", None, None, None, None, 3000],
            [None, "Negotiation", "0065e00000Op503", "Globex - C", "0015e00000Ac001", 3000, *dates],
            ["Subtotal", None, None, None, None, 3000],
            ["Raj Patel", "Prospecting", "0065e00000Op504", "Sakura - D", "0015e00000Ac004", 4000, *dates],
            [None, None, "0065e00000Op505", "Sakura - E", "0015e00000Ac004", 5000, *dates],
            ["Subtotal", None, None, None, None, 9000],
            ["Total (5 records)", None, None, None, None, 15000],
        ],
    )
    report = import_files(empty, [base / "Users.csv", base / "Accounts.csv", xlsx], format="salesforce")
    clean(report)
    notes = notes_of(report, xlsx.name)
    assert "grouping columns 'Opportunity Owner', 'Stage' filled down onto 5 cells" in notes
    opps = by_key(empty, "SELECT opp_id, owner_rep_id, stage FROM opportunities")
    assert opps == {
        "0065e00000Op501": ("0055e000002Us02", "Prospecting"),
        "0065e00000Op502": ("0055e000002Us02", "Prospecting"),
        "0065e00000Op503": ("0055e000002Us02", "Negotiation"),
        "0065e00000Op504": ("0055e000002Us05", "Prospecting"),
        "0065e00000Op505": ("0055e000002Us05", "Prospecting"),
    }


def test_a_blank_detail_column_is_not_filled_down(empty: Warehouse, tmp_path: Path) -> None:
    """Blank cells in a leading column that repeats a value are data (no owner), not a group."""
    base = SF / "standard_reports"
    header = ["Opportunity Owner", "Opportunity ID", "Opportunity Name", "Account ID", "Stage", "Amount"]
    header += ["Close Date", "Created Date"]
    dates = [date(2027, 1, 15), date(2026, 9, 1)]
    xlsx = workbook(
        tmp_path / "Opportunities.xlsx",
        [
            header,
            ["Ben Carter", "0065e00000Op601", "Globex - A", "0015e00000Ac001", "Prospecting", 1000, *dates],
            [None, "0065e00000Op602", "Globex - B", "0015e00000Ac001", "Prospecting", 2000, *dates],
            ["Ben Carter", "0065e00000Op603", "Globex - C", "0015e00000Ac001", "Prospecting", 3000, *dates],
            ["Subtotal", None, None, None, None, 6000],
        ],
    )
    report = import_files(empty, [base / "Users.csv", base / "Accounts.csv", xlsx], format="salesforce")
    clean(report)
    assert "filled down" not in notes_of(report, xlsx.name)
    owners = by_key(empty, "SELECT opp_id, owner_rep_id FROM opportunities")
    assert owners == {
        "0065e00000Op601": ("0055e000002Us02",),
        "0065e00000Op602": (None,),
        "0065e00000Op603": ("0055e000002Us02",),
    }


def test_data_export_api_names_and_18_character_ids_link_to_report_ids(empty: Warehouse) -> None:
    base = SF / "standard_reports"
    report = import_files(
        empty, [base / "Users.csv", base / "Accounts.csv", SF / "data_export" / "Opportunity.csv"], format="salesforce"
    )
    clean(report)
    opps = by_key(
        empty, "SELECT opp_id, account_id, owner_rep_id, amount, created_date::VARCHAR, is_won FROM opportunities"
    )
    # AccountId/OwnerId are 18-character; the accounts and users came from 15-character reports.
    assert opps["0065e00000Op301AAB"] == ("0015e00000Ac004", "0055e000002Us05", 120_000.0, "2026-10-20", False)
    assert opps["0065e00000Op302AAB"][:2] == ("0015e00000Ac001", "0055e000002Us02")
    assert "region is read but not stored" in notes_of(report, "Opportunity.csv")


def test_users_report_with_first_and_last_names_and_created_date(empty: Warehouse, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Users custom.csv",
        "User ID,First Name,Last Name,Email,Title,Active,Created Date\n"
        '0055x01,Ana,Silva,ana@example.com,Enterprise Account Executive,1,"3/14/2024, 9:30 AM"\n',
    )
    report = import_files(empty, [path], format="salesforce")
    clean(report)
    assert rows(empty, "SELECT name, role, hire_date::VARCHAR FROM reps") == [("Ana Silva", "AE", "2024-03-14")]
    assert "hire_date taken from each user's Created Date" in notes_of(report, path.name)


# --- HubSpot ---------------------------------------------------------------------------------


def test_hubspot_owners_companies_deals(empty: Warehouse) -> None:
    report = import_files(empty, [HS], format="hubspot", today=TODAY)
    clean(report)
    assert [(f.file, f.table, f.loaded) for f in report.files] == [
        ("owners.csv", "reps", 4),
        ("companies.csv", "accounts", 4),
        ("deals.csv (stages)", "stages", 6),
        ("deals.csv", "opportunities", 6),
    ]
    reps = by_key(empty, "SELECT rep_id, name, role, region, hire_date::VARCHAR, end_date::VARCHAR FROM reps")
    assert reps["512001"] == ("Nora Hale", "Manager", None, "2021-03-01", None)
    assert reps["512002"] == ("Theo Grant", "AE", "EMEA", "2023-05-15", None)
    assert reps["512003"][2] == "NA"  # team "North America Sales"
    assert reps["512004"] == ("Kenji Mori", "SDR", "APAC", "2024-07-01", "2026-11-30")  # deactivated

    accounts = by_key(
        empty,
        "SELECT account_id, name, owner_rep_id, country, region, segment, parent_account_id, industry FROM accounts",
    )
    assert accounts["18245530101"] == (
        "Vantage Freight, LLC",
        "512003",
        "US",
        "NA",
        "Mid-Market",
        None,
        "Transportation Trucking Railroad",
    )
    assert accounts["18245530102"][2:6] == ("CA", "NA", "SMB", "18245530101")  # Parent Company by name
    assert accounts["18245530103"][2:5] == ("NO", "EMEA", "Enterprise")
    assert accounts["18245530104"][1:4] == ("512001", "NZ", "APAC")  # owner given by e-mail

    deals = by_key(
        empty,
        "SELECT opp_id, account_id, owner_rep_id, stage, amount, close_date::VARCHAR, created_date::VARCHAR, "
        "is_closed, is_won, forecast_category, type FROM opportunities",
    )
    assert deals["9001"] == (
        "18245530101",
        "512003",
        "Closed Won",  # the warehouse's spelling of HubSpot's "Closed won"
        48_000.0,
        "2026-09-30",
        "2026-04-02",
        True,
        True,
        "Closed",
        "New Business",
    )
    assert deals["9002"][3:5] == (12_500.5, "2026-12-18")
    assert deals["9003"][0] == "18245530103"  # the first of two associated companies
    assert deals["9005"][6:9] == (True, False, "Omitted")  # Closed lost, "Not forecasted"
    assert deals["9006"][1:3] == ("512004", "Qualified to buy")  # an internal stage id
    stages = by_key(empty, "SELECT name, default_probability, is_closed, is_won FROM stages")
    assert stages["Appointment scheduled"] == (0.2, False, False)
    assert stages["Decision maker bought-in"] == (0.8, False, False)
    assert stages["Contract sent"] == (0.9, False, False)
    assert "Closed won" not in stages and stages["Closed Won"] == (1.0, True, True)
    notes = notes_of(report, "deals.csv")
    assert "HubSpot's default probabilities" in notes and "several companies" in notes


def test_hubspot_deals_xlsx_export(empty: Warehouse, tmp_path: Path) -> None:
    import_files(empty, [HS / "owners.csv", HS / "companies.csv"], format="hubspot")
    xlsx = workbook(
        tmp_path / "hubspot-crm-exports-all-deals-2026-11-30.xlsx",
        [
            [
                "Record ID",
                "Deal Name",
                "Deal Stage",
                "Pipeline",
                "Amount",
                "Close Date",
                "Create Date",
                "Deal owner",
                "Associated Company",
                "Deal probability",
            ],
            [
                9101,
                "Kiwi - Rollout",
                "Presentation scheduled",
                "Sales Pipeline",
                56000,
                datetime(2027, 1, 15, 12),
                datetime(2026, 10, 1, 9, 30),
                "Nora Hale (nora.hale@example.com)",
                "Kiwi Health Ltd",
                0.55,
            ],
            [
                9102,
                "Nordlys - Storage",
                "Closed won",
                "Sales Pipeline",
                1200.75,
                datetime(2026, 11, 2),
                datetime(2026, 6, 1),
                "Theo Grant",
                "Nordlys Energi AS",
                1,
            ],
        ],
    )
    report = import_files(empty, [xlsx], format="hubspot")
    clean(report)
    deals = by_key(
        empty, "SELECT opp_id, account_id, owner_rep_id, amount, close_date::VARCHAR, is_won FROM opportunities"
    )
    assert deals == {
        "9101": ("18245530104", "512001", 56_000.0, "2027-01-15", False),
        "9102": ("18245530103", "512002", 1200.75, "2026-11-02", True),
    }
    assert rows(empty, "SELECT default_probability FROM stages WHERE name = 'Presentation scheduled'") == [(0.55,)]


# --- errors ----------------------------------------------------------------------------------


def test_missing_required_column_names_the_column_and_where_to_add_it(empty: Warehouse, tmp_path: Path) -> None:
    opps = write(
        tmp_path,
        "Opportunities.csv",
        "Opportunity ID,Opportunity Name,Account ID,Stage,Close Date,Created Date\nO1,Deal,A1,Prospecting,1/5/2027,1/1/2026\n",
    )
    with pytest.raises(InputError) as error:
        import_files(empty, [opps], format="salesforce")
    assert str(error.value).startswith(
        "Opportunities.csv has no Amount column: add the Amount field to the report "
        "(Salesforce: Opportunities report → Columns)"
    )
    users = write(tmp_path, "Users.csv", "Full Name,Email,Title,Active\nAna Silva,ana@example.com,AE,1\n")
    with pytest.raises(InputError, match=r"Users.csv has no User ID column: add the User ID field .*Users report"):
        import_files(empty, [users], format="salesforce")
    deals = write(
        tmp_path,
        "deals.csv",
        "Record ID,Deal Name,Deal Stage,Amount,Create Date,Associated Company IDs (Primary)\n1,D,Closed won,5,2026-01-01,7\n",
    )
    with pytest.raises(
        InputError, match=r"deals.csv has no Close Date column: add the Close Date field to the export \(HubSpot: Deals"
    ):
        import_files(empty, [deals], format="hubspot")
    history = write(
        tmp_path, "Stage History.csv", "Opportunity ID,Stage,Amount,Edit Date\nO1,Prospecting,5,\nO1,Closed Won,5,\n"
    )
    import_files(empty, [history], format="salesforce")  # Edit Date is there (empty rows are rejected, not an error)
    no_date = write(
        tmp_path, "Opportunity History.csv", "Opportunity ID,Stage,Amount,From Stage\nO1,Closed Won,5,Prospecting\n"
    )
    with pytest.raises(
        InputError, match=r"Opportunity History\.csv has no Edit Date column: add the Edit Date field to the report"
    ):
        import_files(empty, [no_date], format="salesforce")
    assert rows(empty, "SELECT count(*) FROM opportunities") == [(0,)]  # nothing written


def test_unknown_export_lists_the_kinds_recognised(empty: Warehouse, tmp_path: Path) -> None:
    odd = write(tmp_path, "Campaigns.csv", "Campaign Name,Budgeted Cost,Status\nSpring,100,Active\n")
    with pytest.raises(InputError) as error:
        import_files(empty, [odd], format="salesforce")
    assert (
        "Campaigns.csv is not a Salesforce export spm recognises (headers: Campaign Name, Budgeted Cost, Status)"
        in str(error.value)
    )
    assert "Users, Accounts, Opportunities, Opportunity History" in str(error.value)
    with pytest.raises(InputError, match="Owners, Companies, Deals"):
        import_files(empty, [odd], format="hubspot")
    # Each format says when a file is the other CRM's export.
    with pytest.raises(InputError, match="HubSpot Deals export: use --format hubspot"):
        import_files(empty, [HS / "deals.csv"], format="salesforce")
    with pytest.raises(InputError, match="Salesforce Accounts export: use --format salesforce"):
        import_files(empty, [SF / "Accounts.csv"], format="hubspot")
    contacts = write(
        tmp_path,
        "contacts.csv",
        "Record ID,First Name,Last Name,Email,Contact owner,Lifecycle Stage\n1,A,B,a@b.c,X,Lead\n",
    )
    with pytest.raises(InputError, match="is a HubSpot Contacts export: spm plans from companies, deals and owners"):
        import_files(empty, [contacts], format="hubspot")


def test_native_xlsx_file_imports(empty: Warehouse, tmp_path: Path) -> None:
    xlsx = workbook(
        tmp_path / "accounts.xlsx",
        [
            ["account_id", "name", "region", "zip", "country", "employees"],
            ["A-1", "Acme", "EMEA", "75001", "FR", 250.0],
        ],
    )
    clean(import_files(empty, [xlsx]))
    assert rows(empty, "SELECT account_id, region, zip, employees FROM accounts") == [("A-1", "EMEA", "75001", 250)]
