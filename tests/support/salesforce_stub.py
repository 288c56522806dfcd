"""A local Salesforce for tests: the REST, Bulk API 2.0, SOAP login and OAuth wire protocols over real HTTP.

It holds records per sObject and answers what `simple_salesforce.Salesforce` sends: the SOAP
`login` (`/services/Soap/u/NN.N`), the OAuth token endpoint (password and JWT bearer grants),
SOQL queries with `nextRecordsUrl` pages (`/query/01g...-N`), `SELECT COUNT()`, Bulk API 2.0
query jobs (`/jobs/query`, CSV results followed by `Sforce-Locator`), and sObject Collections
writes (`/composite/sobjects`, PATCH to update, POST to create). The SOQL it understands is
the subset the connector writes: a field list, `WHERE` conditions joined by AND (`=`, `>`,
`IN (...)`) and `ORDER BY` one field.

Salesforce lives at `https://*.salesforce.com`; `session()` gives a `requests.Session` whose
transport sends those hosts to this server over plain HTTP (a hosts-file entry, in effect), so
the client runs unchanged. Every request is recorded for assertions.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

INSTANCE = "acme.my.salesforce.com"
_PREFIX = {
    "User": "005",
    "Account": "001",
    "Opportunity": "006",
    "OpportunityHistory": "008",
    "ForecastingQuota": "0J9",
}
_SELECT = re.compile(
    r"^SELECT (?P<fields>.+?) FROM (?P<obj>\w+)(?: WHERE (?P<where>.+?))?(?: ORDER BY (?P<order>\w+))?$", re.S
)
_CONDITION = re.compile(r"^(?P<field>[\w.]+) (?P<op>=|>|IN) (?P<value>.+)$", re.S)


def sf_id(sobject: str, n: int) -> str:
    """An 18-character Salesforce id for the n-th record of an object."""
    return f"{_PREFIX.get(sobject, '0XX')}{n:012d}AAA"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str


@dataclass
class SalesforceStub:
    username: str = "planner@acme.example"
    password: str = "Pw-s3cr3t!"
    token: str = "TOK-9f8e7d"
    client_id: str | None = None
    client_secret: str | None = None
    consumer_key: str | None = None
    public_key: bytes | None = None  # JWT: the certificate's key that verifies assertions
    page_size: int = 2000  # REST query batch size
    bulk_page_size: int = 50_000
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    expire_sessions: bool = False  # every API call answers 401 INVALID_SESSION_ID
    clock: datetime = field(default_factory=lambda: datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    _tokens: set[str] = field(default_factory=set)
    _cursors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _jobs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _fields: dict[str, list[str]] = field(default_factory=dict)
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    # --- data -------------------------------------------------------------------------------

    def tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return stamp(self.clock)

    def add(self, sobject: str, **values: Any) -> dict[str, Any]:
        """Store a record (flat field names: `UserRole.Name`); Id and SystemModstamp default."""
        record = {"Id": values.pop("Id", None) or sf_id(sobject, next(self._counter)), **values}
        record.setdefault("SystemModstamp", self.tick())
        record.setdefault("CreatedDate", record["SystemModstamp"])
        self.records.setdefault(sobject, {})[record["Id"]] = record
        return record

    def update(self, sobject: str, record_id: str, **values: Any) -> None:
        self.records[sobject][record_id].update(values, SystemModstamp=self.tick())

    def calls(self, path_part: str, method: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if path_part in r.path and (method is None or r.method == method)]

    # --- SOQL -----------------------------------------------------------------------------------

    def _value(self, text: str) -> Any:
        text = text.strip()
        if text.startswith("("):
            return [self._value(v) for v in re.findall(r"'(?:[^'\\]|\\.)*'|[^,()\s]+", text)]
        if text.startswith("'"):
            return text[1:-1].replace("\\'", "'").replace("\\\\", "\\")
        if re.match(r"^\d{4}-\d{2}-\d{2}T", text):
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        return text

    def _matches(self, record: dict[str, Any], where: str | None) -> bool:
        for condition in where.split(" AND ") if where else []:
            m = _CONDITION.match(condition.strip())
            assert m, f"the stub does not understand {condition!r}"
            have, want = record.get(m["field"]), self._value(m["value"])
            if isinstance(want, datetime):
                have = datetime.strptime(have, "%Y-%m-%dT%H:%M:%S.000+0000").replace(tzinfo=UTC) if have else None
            if m["op"] == "=" and have != want:
                return False
            if m["op"] == ">" and (have is None or not have > want):
                return False
            if m["op"] == "IN" and have not in want:
                return False
        return True

    def select(self, soql: str) -> tuple[list[dict[str, Any]], list[str] | None]:
        """Matching records and the selected fields (None for COUNT())."""
        m = _SELECT.match(soql.strip())
        assert m, f"the stub does not understand {soql!r}"
        rows = [r for r in self.records.get(m["obj"], {}).values() if self._matches(r, m["where"])]
        if m["order"]:
            rows.sort(key=lambda r: (r.get(m["order"]) is None, str(r.get(m["order"]))))
        fields = [f.strip() for f in m["fields"].split(",")]
        return rows, None if fields == ["COUNT()"] else fields

    def _rest_record(self, sobject: str, record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "attributes": {"type": sobject, "url": f"/services/data/v60.0/sobjects/{sobject}/{record['Id']}"}
        }
        for name in fields:
            if "." in name:
                parent, child = name.split(".", 1)
                value = record.get(name)
                out[parent] = None if value is None else {"attributes": {"type": parent}, child: value}
            else:
                out[name] = record.get(name)
        return out

    # --- HTTP -----------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: str):  # type: ignore[no-untyped-def]
        self.requests.append(Recorded(method, path, query, headers, body))
        if re.match(r"^/services/Soap/u/[\d.]+$", path):
            return self._soap_login(body)
        if path == "/services/oauth2/token":
            return self._token(parse_qs(body))
        if headers.get("authorization", "").removeprefix("Bearer ") not in self._tokens or self.expire_sessions:
            return 401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], {}
        m = re.match(r"^/services/data/v[\d.]+/(?P<rest>.*)$", path)
        assert m, f"the stub has no {path}"
        rest = m["rest"].rstrip("/")
        if rest == "query":
            return self._query(query["q"][0])
        if rest.startswith("query/"):
            return self._more(rest.removeprefix("query/"))
        if rest == "jobs/query" and method == "POST":
            return self._bulk_create(json.loads(body))
        if m2 := re.match(r"^jobs/query/(?P<job>\w+)(?P<results>/results)?$", rest):
            if m2["results"]:
                return self._bulk_results(m2["job"], query)
            return (
                200,
                {"id": m2["job"], "state": "JobComplete", "numberRecordsProcessed": len(self._jobs[m2["job"]])},
                {},
            )
        if rest == "composite/sobjects":
            return self._collections(method, json.loads(body))
        raise AssertionError(f"the stub has no {method} {path}")

    def _session(self) -> str:
        token = "00D000000000001!" + uuid.uuid4().hex
        self._tokens.add(token)
        return token

    def _soap_login(self, body: str):  # type: ignore[no-untyped-def]
        user = re.search(r"<n1:username>(.*?)</n1:username>", body)
        secret = re.search(r"<n1:password>(.*?)</n1:password>", body, re.S)
        if user and secret and unescape(user[1]) == self.username and unescape(secret[1]) == self.password + self.token:
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns="urn:partner.soap.sforce.com"><soapenv:Body><loginResponse><result>'
                f"<serverUrl>https://{INSTANCE}/services/Soap/u/60.0/00D000000000001</serverUrl>"
                f"<sessionId>{self._session()}</sessionId><userName>{self.username}</userName>"
                "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
            )
            return 200, xml.encode(), {"Content-Type": "text/xml"}
        fault = (
            '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode>"
            "<faultstring>INVALID_LOGIN: Invalid username, password, security token; or user locked out.</faultstring>"
            '<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>'
            "<sf:exceptionMessage>Invalid username, password, security token; or user locked out.</sf:exceptionMessage>"
            "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
        )
        return 500, fault.encode(), {"Content-Type": "text/xml"}

    def _token(self, form: dict[str, list[str]]):  # type: ignore[no-untyped-def]
        grant = form.get("grant_type", [""])[0]
        ok = False
        if grant == "password":
            ok = (
                form.get("client_id") == [self.client_id]
                and form.get("client_secret") == [self.client_secret]
                and form.get("username") == [self.username]
                and form.get("password") == [self.password + self.token]
            )
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer" and self.public_key:
            import jwt

            try:
                claims = jwt.decode(
                    form["assertion"][0], self.public_key, algorithms=["RS256"], options={"verify_aud": False}
                )
                ok = claims.get("iss") == self.consumer_key and claims.get("sub") == self.username
            except jwt.PyJWTError:
                ok = False
        if not ok:
            return 400, {"error": "invalid_grant", "error_description": "authentication failure"}, {}
        return 200, {"access_token": self._session(), "instance_url": f"https://{INSTANCE}", "token_type": "Bearer"}, {}

    def _query(self, soql: str):  # type: ignore[no-untyped-def]
        sobject = _SELECT.match(soql.strip())["obj"]  # type: ignore[index]
        rows, fields = self.select(soql)
        if fields is None:
            return 200, {"totalSize": len(rows), "done": True, "records": []}, {}
        rendered = [self._rest_record(sobject, r, fields) for r in rows]
        cursor = "01g" + uuid.uuid4().hex[:15]
        self._cursors[cursor] = rendered
        return self._page(cursor, 0)

    def _page(self, cursor: str, offset: int):  # type: ignore[no-untyped-def]
        rendered = self._cursors[cursor]
        end = offset + self.page_size
        page: dict[str, Any] = {
            "totalSize": len(rendered),
            "done": end >= len(rendered),
            "records": rendered[offset:end],
        }
        if end < len(rendered):
            page["nextRecordsUrl"] = f"/services/data/v60.0/query/{cursor}-{end}"
        return 200, page, {}

    def _more(self, locator: str):  # type: ignore[no-untyped-def]
        cursor, offset = locator.rsplit("-", 1)
        if cursor not in self._cursors:
            return 400, [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}], {}
        return self._page(cursor, int(offset))

    def _bulk_create(self, job: dict[str, Any]):  # type: ignore[no-untyped-def]
        assert job["operation"] == "query"
        rows, fields = self.select(job["query"])
        assert fields is not None
        job_id = "750" + uuid.uuid4().hex[:15]
        self._jobs[job_id] = rows
        self._fields[job_id] = fields
        return 200, {"id": job_id, "operation": "query", "state": "UploadComplete"}, {}

    def _bulk_results(self, job_id: str, query: dict[str, list[str]]):  # type: ignore[no-untyped-def]
        rows, fields = self._jobs[job_id], self._fields[job_id]
        size = min(int(query.get("maxRecords", ["50000"])[0]), self.bulk_page_size)
        offset = int(query.get("locator", ["0"])[0])
        part = rows[offset : offset + size]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(fields)
        for r in part:
            writer.writerow(
                [
                    "" if r.get(f) is None else str(r.get(f)).lower() if isinstance(r.get(f), bool) else r.get(f)
                    for f in fields
                ]
            )
        locator = str(offset + size) if offset + size < len(rows) else "null"
        headers = {"Content-Type": "text/csv", "Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(part))}
        return 200, buffer.getvalue().encode(), headers

    def _collections(self, method: str, body: dict[str, Any]):  # type: ignore[no-untyped-def]
        results = []
        for item in body["records"]:
            item = dict(item)
            sobject = item.pop("attributes")["type"]
            owner = item.get("OwnerId") or item.get("QuotaOwnerId")
            if owner is not None and owner not in self.records.get("User", {}):
                results.append(
                    {
                        "id": item.get("id"),
                        "success": False,
                        "errors": [
                            {
                                "statusCode": "INVALID_CROSS_REFERENCE_KEY",
                                "message": "invalid cross reference id",
                                "fields": [],
                            }
                        ],
                    }
                )
                continue
            if method == "PATCH":
                record_id = item.pop("id")
                if record_id not in self.records.get(sobject, {}):
                    results.append(
                        {
                            "id": record_id,
                            "success": False,
                            "errors": [
                                {"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}
                            ],
                        }
                    )
                    continue
                self.update(sobject, record_id, **item)
                results.append({"id": record_id, "success": True, "errors": []})
            else:
                created = self.add(sobject, **item)
                results.append({"id": created["Id"], "success": True, "errors": []})
        return 200, results, {}

    # --- serving ----------------------------------------------------------------------------------

    def start(self) -> SalesforceStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in separate writes: no 40 ms delayed-ACK stall

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload, extra = stub.handle(self.command, parts.path, parse_qs(parts.query), headers, body)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", extra.pop("Content-Type", "application/json;charset=UTF-8"))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def session(self) -> requests.Session:
        """A requests session that sends `https://*.salesforce.com` to this server."""
        port = self.port

        class ToStub(HTTPAdapter):
            def send(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
                parts = urlsplit(request.url)
                if parts.hostname and parts.hostname.endswith("salesforce.com"):
                    request.url = urlunsplit(("http", f"127.0.0.1:{port}", parts.path, parts.query, parts.fragment))
                return super().send(request, *args, **kwargs)

        session = requests.Session()
        session.mount("https://", ToStub())
        return session


def seed_org(stub: SalesforceStub) -> dict[str, str]:
    """A small org: stages, a manager and three reps (one departed) plus an integration user,
    three accounts (one a child of another), four opportunities (one without an amount, which
    the import rejects) and two history rows. Returns the ids tests refer to by name."""
    for label, order, p, closed, won in (
        ("Prospecting", 1, 10.0, False, False),
        ("Proposal", 3, 60.0, False, False),
        ("Closed Won", 5, 100.0, True, True),
        ("Closed Lost", 6, 0.0, True, False),
    ):
        stub.add(
            "OpportunityStage", MasterLabel=label, SortOrder=order, DefaultProbability=p, IsClosed=closed, IsWon=won
        )
    stub.add("ForecastingType", DeveloperName="OpportunityRevenue", Id="0Db000000000001AAA")
    people = dict(UserType="Standard", CreatedDate="2024-03-04T10:00:00.000+0000")
    maya = stub.add(
        "User",
        Name="Maya Okafor",
        Email="maya@acme.example",
        Title="VP Sales",
        IsActive=True,
        **{"UserRole.Name": "Sales Manager"},
        ManagerId=None,
        **people,
    )["Id"]
    ana = stub.add(
        "User",
        Name="Ana Lima",
        Email="ana@acme.example",
        Title="Account Executive",
        IsActive=True,
        **{"UserRole.Name": None},
        ManagerId=maya,
        **people,
    )["Id"]
    ben = stub.add(
        "User",
        Name="Ben Osei",
        Email="ben@acme.example",
        Title="Account Executive",
        IsActive=True,
        **{"UserRole.Name": "Enterprise AE"},
        ManagerId=maya,
        **people,
    )["Id"]
    gone = stub.add(
        "User",
        Name="Cleo Park",
        Email="cleo@acme.example",
        Title="Account Executive",
        IsActive=False,
        **{"UserRole.Name": None},
        ManagerId=maya,
        **people,
    )["Id"]
    stub.add(
        "User", Name="Integration", Email="int@acme.example", Title=None, IsActive=True, UserType="AutomatedProcess"
    )
    summit = stub.add(
        "Account",
        Name="Summit Logistics",
        ParentId=None,
        BillingPostalCode="02139",
        BillingCountry="United States",
        BillingCity="Cambridge",
        Industry="Logistics",
        NumberOfEmployees=2500,
        AnnualRevenue=120000000.0,
        OwnerId=ana,
        CreatedDate="2021-06-01T08:00:00.000+0000",
    )["Id"]
    north = stub.add(
        "Account",
        Name="Summit North",
        ParentId=summit,
        BillingPostalCode="10115",
        BillingCountry="Germany",
        BillingCity="Berlin",
        Industry="Logistics",
        NumberOfEmployees=300,
        AnnualRevenue=None,
        OwnerId=ben,
        CreatedDate="2022-01-10T08:00:00.000+0000",
    )["Id"]
    tiny = stub.add(
        "Account",
        Name="Tiny Co",
        ParentId=None,
        BillingPostalCode="94105",
        BillingCountry="US",
        BillingCity="San Francisco",
        Industry=None,
        NumberOfEmployees=40,
        AnnualRevenue=None,
        OwnerId=ana,
        CreatedDate="2023-05-05T08:00:00.000+0000",
    )["Id"]
    deal = dict(
        Type="New Business",
        ForecastCategoryName="Pipeline",
        IsClosed=False,
        IsWon=False,
        LastStageChangeDate="2026-10-01",
    )
    big = stub.add(
        "Opportunity",
        Name="Summit - Platform",
        AccountId=summit,
        OwnerId=ana,
        StageName="Proposal",
        Amount=45000.0,
        CloseDate="2026-12-15",
        CreatedDate="2026-09-01T10:00:00.000+0000",
        Probability=60.0,
        **deal,
    )["Id"]
    stub.add(
        "Opportunity",
        Name="North - Renewal",
        AccountId=north,
        OwnerId=ben,
        StageName="Closed Won",
        Amount=12000.0,
        CloseDate="2026-10-20",
        CreatedDate="2026-08-01T10:00:00.000+0000",
        Probability=100.0,
        **(deal | dict(Type="Renewal", ForecastCategoryName="Closed", IsClosed=True, IsWon=True)),
    )
    stub.add(
        "Opportunity",
        Name="Tiny - Starter",
        AccountId=tiny,
        OwnerId=gone,
        StageName="Prospecting",
        Amount=5000.0,
        CloseDate="2027-01-31",
        CreatedDate="2026-10-15T10:00:00.000+0000",
        Probability=10.0,
        **deal,
    )
    no_amount = stub.add(
        "Opportunity",
        Name="Tiny - Upsell",
        AccountId=tiny,
        OwnerId=ana,
        StageName="Prospecting",
        Amount=None,
        CloseDate="2027-02-28",
        CreatedDate="2026-10-20T10:00:00.000+0000",
        Probability=10.0,
        **deal,
    )["Id"]
    stub.add(
        "OpportunityHistory",
        OpportunityId=big,
        CreatedDate="2026-09-01T10:00:00.000+0000",
        StageName="Prospecting",
        Amount=40000.0,
        CloseDate="2026-12-31",
        ForecastCategory="Pipeline",
    )
    stub.add(
        "OpportunityHistory",
        OpportunityId=big,
        CreatedDate="2026-10-01T10:00:00.000+0000",
        StageName="Proposal",
        Amount=45000.0,
        CloseDate="2026-12-15",
        ForecastCategory="BestCase",
    )
    return {
        "maya": maya,
        "ana": ana,
        "ben": ben,
        "gone": gone,
        "summit": summit,
        "north": north,
        "tiny": tiny,
        "big": big,
        "no_amount": no_amount,
    }
