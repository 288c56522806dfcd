"""`spm data sync salesforce` end to end: the real simple-salesforce client against a local Salesforce.

The stub (tests/support/salesforce_stub.py) speaks the SOAP login, OAuth token, REST query
(`nextRecordsUrl` pages) and Bulk API 2.0 wire protocols; the client is unchanged, only its
`*.salesforce.com` hosts are routed to the stub.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from simple_salesforce import Salesforce
from support.salesforce_stub import SalesforceStub, seed_org
from typer.testing import CliRunner

from interfaces import crm_cli
from interfaces.cli import app
from interfaces.errors import EXIT_CODES, EXIT_PARTIAL
from interfaces.settings import get_settings
from warehouse.connection import Warehouse
from warehouse.importers import import_files
from warehouse.importers.salesforce_api import sync_salesforce

runner = CliRunner()


@pytest.fixture
def stub() -> Iterator[SalesforceStub]:
    org = SalesforceStub().start()
    org.ids = seed_org(org)  # type: ignore[attr-defined]
    yield org
    org.stop()


@pytest.fixture
def sf_env(stub: SalesforceStub, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The CLI's settings for the stub org, and its HTTP routed to the stub."""
    env = {"SPM_SF_USERNAME": stub.username, "SPM_SF_PASSWORD": stub.password, "SPM_SF_TOKEN": stub.token}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(crm_cli, "http_session", stub.session)
    return env


def client(stub: SalesforceStub) -> Salesforce:
    return Salesforce(
        username=stub.username,
        password=stub.password,
        security_token=stub.token,
        session=stub.session(),
        version="60.0",
    )


def spm(*args: str):  # type: ignore[no-untyped-def]
    get_settings.cache_clear()
    return runner.invoke(app, list(args))


def rows(wh: Warehouse, sql: str) -> list[tuple]:
    with wh.reader() as cur:
        return cur.execute(sql).fetchall()


def test_initial_sync_loads_users_accounts_opportunities_with_reconciled_counts(
    empty: Warehouse, stub: SalesforceStub, sf_env: dict[str, str]
) -> None:
    result = spm("-w", str(empty.path), "data", "sync", "salesforce", "--json")
    assert result.exit_code == EXIT_PARTIAL, result.stderr  # one opportunity has no amount
    report = json.loads(result.stdout)
    objects = {o["sobject"]: o for o in report["objects"]}
    assert {k: (o["read"], o["loaded"], o["rejected"]) for k, o in objects.items()} == {
        "User": (4, 4, 0),  # the integration user is not a person: not read
        "Account": (3, 3, 0),
        "Opportunity": (4, 3, 1),
        "OpportunityHistory": (2, 2, 0),
    }
    assert all(o["read"] == o["loaded"] + o["rejected"] and o["method"] == "rest" for o in objects.values())
    assert report["read"] == report["loaded"] + report["rejected"] and report["committed"]
    ids = stub.ids  # type: ignore[attr-defined]
    # Owners and managers are Salesforce User Ids (the reps' ids), not matched names.
    assert rows(empty, "SELECT rep_id, role, manager_id, end_date IS NOT NULL FROM reps ORDER BY name") == [
        (ids["ana"], "AE", ids["maya"], False),
        (ids["ben"], "AE", ids["maya"], False),
        (ids["gone"], "AE", ids["maya"], True),
        (ids["maya"], "Manager", None, False),
    ]
    assert rows(
        empty,
        "SELECT account_id, owner_rep_id, country, region, segment, parent_account_id FROM accounts ORDER BY name",
    ) == [
        (ids["summit"], ids["ana"], "US", "NA", "Enterprise", None),
        (ids["north"], ids["ben"], "DE", "EMEA", "Mid-Market", ids["summit"]),
        (ids["tiny"], ids["ana"], "US", "NA", "SMB", None),
    ]
    assert rows(
        empty,
        f"SELECT stage, seq, forecast_category FROM opportunity_history WHERE opp_id = '{ids['big']}' ORDER BY seq",
    ) == [
        ("Prospecting", 1, "Pipeline"),
        ("Proposal", 2, "Best Case"),
    ]
    # Stages as Salesforce defines them (OpportunityStage), and the high-water mark of each object.
    assert rows(empty, "SELECT default_probability, is_won FROM stages WHERE name = 'Closed Won'") == [(1.0, True)]
    marks = dict(rows(empty, "SELECT object, high_water FROM crm_sync_state WHERE source = 'salesforce'"))
    assert set(marks) == {"User", "Account", "Opportunity", "OpportunityHistory"} and all(marks.values())
    assert rows(empty, "SELECT format, rows_read, rows_loaded, rows_rejected FROM imports") == [
        ("salesforce-api", 17, 16, 1)
    ]
    [(answer,)] = rows(empty, "SELECT answer FROM audit_runs WHERE question LIKE 'spm data sync salesforce%'")
    assert "read 17 = loaded 16 + rejected 1" in answer


def test_a_bad_record_is_rejected_with_the_reason_a_file_import_gives(
    empty: Warehouse, stub: SalesforceStub, tmp_path: Path
) -> None:
    report = sync_salesforce(empty, client(stub), today=None)
    [rejection] = report.report.rejections.to_dict("records")
    assert rejection["record_id"] == stub.ids["no_amount"]  # type: ignore[attr-defined]
    assert (rejection["column"], rejection["reason"]) == ("amount", "is required")
    # The same record in a Data Loader export of Opportunities: the same rejection.
    export = tmp_path / "opportunities.csv"
    record = stub.records["Opportunity"][stub.ids["no_amount"]]  # type: ignore[attr-defined]
    fields = ["Id", "Name", "AccountId", "OwnerId", "StageName", "Amount", "CloseDate", "CreatedDate", "Probability"]
    export.write_text(
        ",".join(fields) + "\n" + ",".join("" if record[f] is None else str(record[f]) for f in fields) + "\n"
    )
    filed = import_files(empty, [export], format="salesforce").rejections.to_dict("records")
    assert [(r["column"], r["reason"]) for r in filed] == [("amount", "is required")]


def test_second_sync_reads_only_records_changed_since_the_high_water_mark(
    empty: Warehouse, stub: SalesforceStub
) -> None:
    sync_salesforce(empty, client(stub))
    ids = stub.ids  # type: ignore[attr-defined]
    stub.update("Account", ids["tiny"], OwnerId=ids["ben"], NumberOfEmployees=450)
    stub.add(
        "Opportunity", Name="Tiny - Expansion", AccountId=ids["tiny"], OwnerId=ids["ben"], StageName="Proposal",
        Amount=9000.0, CloseDate="2027-03-31", CreatedDate="2026-11-02T10:00:00.000+0000", Probability=60.0,
        Type="Expansion", ForecastCategoryName="Best Case", IsClosed=False, IsWon=False, LastStageChangeDate=None,
    )  # fmt: skip
    big = stub.add(
        "OpportunityHistory", OpportunityId=ids["big"], CreatedDate="2026-11-02T10:00:00.000+0000",
        StageName="Closed Won", Amount=45000.0, CloseDate="2026-11-02", ForecastCategory="Closed",
    )  # fmt: skip
    stub.requests.clear()
    second = sync_salesforce(empty, client(stub))
    counts = {o.sobject: (o.read, o.loaded, o.rejected) for o in second.objects}
    assert counts == {
        "User": (0, 0, 0),
        "Account": (1, 1, 0),
        "Opportunity": (1, 1, 0),
        "OpportunityHistory": (1, 1, 0),
    }
    queries = [r.query["q"][0] for r in stub.calls("/query", "GET") if "q" in r.query]
    assert all("SystemModstamp > 2026-11-01T09:00" in q for q in queries if "OpportunityStage" not in q)
    assert rows(empty, f"SELECT owner_rep_id, segment FROM accounts WHERE account_id = '{ids['tiny']}'") == [
        (ids["ben"], "Mid-Market")
    ]
    # A new history row continues the opportunity's numbering, never overwrites it.
    assert rows(empty, f"SELECT seq, stage FROM opportunity_history WHERE opp_id = '{ids['big']}' ORDER BY seq")[
        -1
    ] == (
        3,
        "Closed Won",
    )
    assert big["OpportunityId"] == ids["big"]
    [(mark,)] = rows(empty, "SELECT high_water FROM crm_sync_state WHERE object = 'Account'")
    assert mark.isoformat() == second.objects[1].high_water
    assert sync_salesforce(empty, client(stub)).report.read == 0  # nothing changed since: nothing read


def test_query_pages_are_followed_with_next_records_url(empty: Warehouse, stub: SalesforceStub) -> None:
    stub.page_size = 1  # three accounts: three pages
    report = sync_salesforce(empty, client(stub))
    account = next(o for o in report.objects if o.sobject == "Account")
    assert (account.pages, account.read, account.loaded) == (3, 3, 3)
    more = [r.path for r in stub.calls("/query/01g", "GET")]
    assert more and all(p.startswith("/services/data/v60.0/query/01g") for p in more)
    assert rows(empty, "SELECT count(*) FROM accounts") == [(3,)]


def test_bulk_api_2_reads_objects_above_the_threshold(empty: Warehouse, stub: SalesforceStub) -> None:
    stub.bulk_page_size = 2  # results come in pages followed by Sforce-Locator
    report = sync_salesforce(empty, client(stub), bulk_threshold=2, bulk_wait=0.0)
    methods = {o.sobject: (o.method, o.pages, o.read, o.loaded) for o in report.objects}
    assert methods == {
        "User": ("bulk", 2, 4, 4),
        "Account": ("bulk", 2, 3, 3),
        "Opportunity": ("bulk", 2, 4, 3),
        "OpportunityHistory": ("rest", 1, 2, 2),  # two records: at the threshold, REST
    }
    assert stub.calls("/jobs/query", "POST") and stub.calls("/results", "GET")
    ids = stub.ids  # type: ignore[attr-defined]
    # The CSV's relationship column (UserRole.Name) and ids map as the REST records do.
    assert rows(empty, f"SELECT role, manager_id FROM reps WHERE rep_id = '{ids['maya']}'") == [("Manager", None)]
    assert rows(empty, f"SELECT parent_account_id FROM accounts WHERE account_id = '{ids['north']}'") == [
        (ids["summit"],)
    ]


def test_an_expired_session_gives_a_clear_error_and_changes_nothing(
    empty: Warehouse, stub: SalesforceStub, sf_env: dict[str, str]
) -> None:
    stub.expire_sessions = True  # logins succeed, every API call answers 401 INVALID_SESSION_ID
    result = spm("-w", str(empty.path), "data", "sync", "salesforce")
    assert result.exit_code == EXIT_CODES["input"]
    assert "401" in result.stderr and "session expired" in result.stderr and "SPM_SF_USERNAME" in result.stderr
    assert "Traceback" not in result.stderr
    assert rows(empty, "SELECT count(*) FROM reps") == [(0,)]
    assert rows(empty, "SELECT count(*) FROM crm_sync_state") == [(0,)]
    [(status,)] = rows(empty, "SELECT status FROM audit_runs WHERE question LIKE 'spm data sync%'")
    assert status == "error"


def test_credentials_never_reach_output_errors_or_the_audit_trail(
    empty: Warehouse, stub: SalesforceStub, sf_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = (stub.password, stub.token)
    done = spm("-w", str(empty.path), "data", "sync", "salesforce", "--json")
    assert done.exit_code == EXIT_PARTIAL
    login = stub.calls("/services/Soap/u/", "POST")
    assert login and stub.password + stub.token in login[0].body  # the real login was made with them
    monkeypatch.setenv("SPM_SF_PASSWORD", "Wrong-pass-123")
    refused = spm("-w", str(empty.path), "data", "sync", "salesforce")
    assert refused.exit_code == EXIT_CODES["input"]
    assert "refused the login" in refused.stderr and "SPM_SF_PASSWORD" in refused.stderr
    trail = json.dumps(rows(empty, "SELECT * FROM audit_runs") + rows(empty, "SELECT * FROM audit_steps"), default=str)
    stored = json.dumps(rows(empty, "SELECT * FROM imports") + rows(empty, "SELECT * FROM crm_sync_state"), default=str)
    for text in (done.stdout, done.stderr, refused.stdout, refused.stderr, trail, stored):
        for secret in (*secrets, "Wrong-pass-123"):
            assert secret not in text
    assert "INVALID_LOGIN" in trail  # the refusal is recorded, without the password


def test_oauth_password_and_jwt_bearer_logins(
    stub: SalesforceStub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from interfaces.crm_settings import SalesforceSettings

    monkeypatch.setattr(crm_cli, "http_session", stub.session)
    stub.client_id, stub.client_secret = "3MVG9-app", "app-secret-42"
    oauth = SalesforceSettings(
        username=stub.username,
        password=stub.password,
        token=stub.token,
        client_id="3MVG9-app",
        client_secret="app-secret-42",
    )  # type: ignore[arg-type]
    assert oauth.flow == "oauth-password"
    assert crm_cli.connect(oauth).query("SELECT COUNT() FROM Account")["totalSize"] == 3

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "server.key"
    pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    stub.consumer_key = "3MVG9-jwt"
    stub.public_key = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwt_cfg = SalesforceSettings(
        username=stub.username,
        consumer_key="3MVG9-jwt",
        private_key_file=pem,
        instance_url="https://acme.my.salesforce.com",
    )  # type: ignore[arg-type]
    assert jwt_cfg.flow == "jwt" and jwt_cfg.login_domain == "acme.my"
    assert crm_cli.connect(jwt_cfg).query("SELECT COUNT() FROM User")["totalSize"] == 5
    grants = [r.body for r in stub.calls("/services/oauth2/token", "POST")]
    assert any("grant_type=password" in g for g in grants) and any("jwt-bearer" in g for g in grants)


def test_unconfigured_salesforce_and_strict_sync(
    empty: Warehouse, stub: SalesforceStub, sf_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = spm("-w", str(empty.path), "data", "sync", "salesforce", "--strict")
    assert strict.exit_code == EXIT_CODES["input"] and "nothing was loaded" in strict.stderr
    assert rows(empty, "SELECT count(*) FROM reps") == rows(empty, "SELECT count(*) FROM crm_sync_state") == [(0,)]
    monkeypatch.delenv("SPM_SF_USERNAME")
    missing = spm("-w", str(empty.path), "data", "sync", "salesforce")
    assert missing.exit_code == EXIT_CODES["input"] and "not configured" in missing.stderr
