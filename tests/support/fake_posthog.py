"""A local fake of PostHog's public capture API: POST /batch/ (and /capture/, /i/v0/e/ for one event) as
PostHog documents them — `{"api_key": "phc_…", "batch": [{event, distinct_id, uuid, timestamp, properties}]}`
answered 200 `{"status": "Ok"}`.

Error answers as PostHog gives them: 400 for a body that is not JSON or an event without `event` or
`distinct_id`, 401 for an unknown project API key, 413 over the body limit, and injected 429 (with
Retry-After) or 5xx (`inject`). Events are stored once per uuid, as PostHog deduplicates them
(`events`); every request is kept (`requests`), so a test can see a batch was sent twice yet counted once.
`persons` holds what `$set` set on each distinct_id.

The query API: POST /api/projects/{project_id}/query/ with `Authorization: Bearer <personal key>` and
`{"query": {"kind": "HogQLQuery", "query": "SELECT … FROM events WHERE … LIMIT n", "values": {…}}}`,
answered `{"columns", "results", "hasMore"}` over the project's events table (`add_event`). Two query
shapes are understood: reconciliation's `SELECT event, count() FROM events WHERE … GROUP BY event`
(one `[name, count]` row per name), and backfill's page (`… ORDER BY timestamp, toString(uuid) LIMIT n`);
both with the `values` placeholders `events`, `since`, `until` and, for a later page, `after`/`after_uuid`
(keyset on timestamp, then uuid as text). 401 for an unknown key, 403 for
a key without the `query:read` scope (`scopes`), 404 for another project; `inject` answers 429 here too.
Each query takes `query_seconds` and at most `concurrent_queries` run at once, as PostHog allows a team:
one more is answered 429 (`most_running` is the most that ran together).
The cohorts API, read with the same personal key: GET /api/projects/{project_id}/cohorts/ (`limit`,
`offset`; `{"count", "next", "previous", "results": [{"id", "name", "count", "deleted", "is_static"}]}`),
GET …/cohorts/{id}/ (one cohort) and GET …/cohorts/{id}/persons/ (`{"results": [{"id", "uuid",
"distinct_ids", "properties"}], "next", "previous"}`, PERSONS_PAGE a page, `next` an absolute URL with
`offset`). 401 for an unknown key, 403 without the `cohort:read` or `person:read` scope, 404 for another
project or an unknown cohort; `inject` answers 429 (or anything) here too. Cohorts are set with
`add_cohort`; every GET is kept in `gets`."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid as uuids
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

MAX_BODY_BYTES = 20 * 1024 * 1024
PERSONS_PAGE = 100


def person_id(distinct_id: str) -> str:
    """The person id PostHog's query API gives a distinct id's events: the one samples.posthog_event gives
    the webhook's, so both carry the same person."""
    return str(uuids.uuid5(uuids.NAMESPACE_URL, "person:" + distinct_id))


class FakePosthog:
    def __init__(
        self,
        api_key: str = "phc_testprojectkey123",
        personal_api_key: str = "phx_testpersonalkey123",
        project_id: str = "4242",
    ):
        self.api_key = api_key
        self.personal_api_key = personal_api_key
        self.project_id = project_id
        self.scopes = {"query:read", "cohort:read", "person:read"}
        self.cohorts: dict[int, dict] = {}  # id → {"name", "deleted", "is_static", "persons": [...]}
        self.gets: list[dict] = []  # every GET: its path, query and status
        self.table: list[dict] = []  # the project's events, as the query API reads them
        self.queries: list[dict] = []  # every query request: its status, the values it carried, when (monotonic)
        self.events: dict[str, dict] = {}  # uuid → the event as first received
        self.requests: list[dict] = []  # every request: path, status, and the uuids it carried
        self.persons: dict[str, dict] = {}  # distinct_id → properties set on it
        self.fail_next: list[tuple[int, dict]] = []  # (status, headers) answered before anything is stored
        self.concurrent_queries = 3
        self.query_seconds = 0.0
        self.running = 0
        self.most_running = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def inject(self, status: int, headers: dict | None = None, times: int = 1) -> None:
        self.fail_next.extend([(status, headers or {})] * times)

    def add_event(
        self, *, uuid: str, event: str, distinct_id: str, timestamp: str, properties: dict | None = None
    ) -> None:
        """An event PostHog ingested (timestamp as ISO text, with its offset); its person carries the email."""
        props = properties or {}
        with self.lock:
            self.table.append(
                {
                    "uuid": uuid,
                    "event": event,
                    "distinct_id": distinct_id,
                    "timestamp": timestamp,
                    "properties": props,
                    "person_properties": {"email": props["email"]} if "email" in props else {},
                }
            )

    def add_cohort(self, cohort_id: int, name: str, persons: list[dict], *, deleted: bool = False) -> None:
        """A cohort and its persons, each `{"uuid", "distinct_ids", "properties"}`; calling it again replaces
        them (people joined or left)."""
        with self.lock:
            self.cohorts[cohort_id] = {"name": name, "deleted": deleted, "persons": list(persons)}

    def _cohorts(self, path: str, query: dict[str, str], authorization: str) -> tuple[int, dict, dict]:
        found = re.fullmatch(r"/api/projects/([^/]+)/cohorts/(?:(\d+)/(?:(persons)/)?)?", path)
        if not authorization.startswith("Bearer ") or authorization[7:] != self.personal_api_key:
            return 401, {"type": "authentication_error", "detail": "Invalid personal API key."}, {}
        needed = "person:read" if found and found.group(3) else "cohort:read"
        if needed not in self.scopes:
            return 403, {"type": "authentication_error", "detail": f"API key missing required scope '{needed}'"}, {}
        if found is None or found.group(1) != self.project_id:
            return 404, {"type": "invalid_request", "detail": "Not found."}, {}
        if found.group(2) is None:
            return 200, self._page(path, query, [self._cohort(i) for i in sorted(self.cohorts)], 100), {}
        cohort_id = int(found.group(2))
        if cohort_id not in self.cohorts:
            return 404, {"type": "invalid_request", "detail": "Not found."}, {}
        if found.group(3) is None:
            return 200, self._cohort(cohort_id), {}
        persons = [
            {"id": n + 1, "uuid": p["uuid"], "distinct_ids": p["distinct_ids"], "properties": p.get("properties", {})}
            for n, p in enumerate(self.cohorts[cohort_id]["persons"])
        ]
        return 200, self._page(path, query, persons, PERSONS_PAGE), {}

    def _cohort(self, cohort_id: int) -> dict:
        c = self.cohorts[cohort_id]
        return {
            "id": cohort_id,
            "name": c["name"],
            "count": len(c["persons"]),
            "deleted": c["deleted"],
            "is_static": False,
            "is_calculating": False,
        }

    def _page(self, path: str, query: dict[str, str], rows: list[dict], default_limit: int) -> dict:
        limit, offset = int(query.get("limit") or default_limit), int(query.get("offset") or 0)
        following = f"{self.url}{path}?limit={limit}&offset={offset + limit}" if offset + limit < len(rows) else None
        return {"count": len(rows), "next": following, "previous": None, "results": rows[offset : offset + limit]}

    def _query(self, body: dict, path: str, authorization: str) -> tuple[int, dict, dict]:
        project = re.fullmatch(r"/api/projects/([^/]+)/query/?", path)
        if not authorization.startswith("Bearer ") or authorization[7:] != self.personal_api_key:
            return 401, {"type": "authentication_error", "detail": "Invalid personal API key."}, {}
        if "query:read" not in self.scopes:
            return 403, {"type": "authentication_error", "detail": "API key missing required scope 'query:read'"}, {}
        if project is None or project.group(1) != self.project_id:
            return 404, {"type": "invalid_request", "detail": "Not found."}, {}
        query: dict = body["query"] if isinstance(body.get("query"), dict) else {}
        text, values = str(query.get("query") or ""), query.get("values") or {}
        if query.get("kind") == "HogQLQuery" and re.match(
            r"SELECT event, count\(\) FROM events .* GROUP BY event$", text
        ):
            return self._counts(values)
        limit = re.search(r"LIMIT (\d+)\s*$", text)
        if query.get("kind") != "HogQLQuery" or "FROM events" not in text or limit is None:
            return 400, {"type": "validation_error", "detail": "Unsupported query"}, {}
        rows = sorted(self._matching(values), key=lambda e: (_time(e["timestamp"]), e["uuid"]))
        page = rows[: int(limit.group(1))]
        columns = ["uuid", "event", "distinct_id", "timestamp", "properties", "person_id", "person_properties"]
        results = [
            [
                e["uuid"],
                e["event"],
                e["distinct_id"],
                e["timestamp"],
                json.dumps(e["properties"]),
                person_id(e["distinct_id"]),
                json.dumps(e["person_properties"]),
            ]
            for e in page
        ]
        return 200, {"columns": columns, "results": results, "hasMore": len(rows) > len(page)}, {}

    def _counts(self, values: dict) -> tuple[int, dict, dict]:
        """`SELECT event, count() … GROUP BY event` as PostHog answers it: one [name, count] row per name."""
        counts: dict[str, int] = {}
        for e in self._matching(values):
            counts[e["event"]] = counts.get(e["event"], 0) + 1
        results = [[name, n] for name, n in sorted(counts.items())]
        return 200, {"columns": ["event", "count()"], "results": results, "hasMore": False}, {}

    def _matching(self, values: dict) -> list[dict]:
        since, until = _time(values["since"]), _time(values["until"])
        after = (_time(values["after"]), values["after_uuid"]) if "after" in values else None
        return [
            e
            for e in self.table
            if e["event"] in values["events"]
            and since <= _time(e["timestamp"]) < until
            and (after is None or (_time(e["timestamp"]), e["uuid"]) > after)
        ]

    def received(self, name: str | None = None) -> list[dict]:
        with self.lock:
            return [e for e in self.events.values() if name is None or e["event"] == name]

    def uuids_sent(self) -> list[str]:
        """Every uuid in every accepted or refused request, repeats included."""
        with self.lock:
            return [u for r in self.requests for u in r["uuids"]]

    def __enter__(self) -> FakePosthog:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _accept(self, body: dict, path: str) -> tuple[int, dict, dict]:
        events = body.get("batch") if path.startswith("/batch") else [body]
        if not isinstance(events, list) or not events:
            return 400, {"type": "validation_error", "detail": "Invalid payload: batch must be a non-empty list"}, {}
        key = body.get("api_key") or (events[0].get("api_key") if isinstance(events[0], dict) else None)
        if key != self.api_key:
            return 401, {"type": "authentication_error", "detail": "Project API key invalid."}, {}
        for event in events:
            if not isinstance(event, dict) or not event.get("event") or not event.get("distinct_id"):
                return (
                    400,
                    {"type": "validation_error", "detail": "Invalid payload: event and distinct_id required"},
                    {},
                )
        for event in events:
            uuid = str(event.get("uuid") or len(self.events))
            if uuid not in self.events:
                self.events[uuid] = event
                person_set = (event.get("properties") or {}).get("$set") or {}
                self.persons.setdefault(str(event["distinct_id"]), {}).update(person_set)
        return 200, {"status": "Ok"}, {}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict, headers: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, str(value))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                path, _, raw_query = self.path.partition("?")
                query = {k: v[-1] for k, v in parse_qs(raw_query).items()}
                with fake.lock:
                    if fake.fail_next:
                        status, headers = fake.fail_next.pop(0)
                        answer: dict = {"detail": "injected"}
                    else:
                        status, answer, headers = fake._cohorts(path, query, self.headers.get("Authorization") or "")
                    fake.gets.append({"path": path, "query": query, "status": status})
                self._answer(status, answer, headers)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length <= MAX_BODY_BYTES else b""
                path = self.path.split("?")[0]
                if path.startswith("/api/projects/") and not self._run_query():
                    with fake.lock:
                        fake.queries.append({"status": 429, "values": None, "at": time.monotonic()})
                    self._answer(429, {"type": "throttled", "detail": "Too many concurrent queries."}, {})
                    return
                try:
                    status, answer, headers = self._post(path, length, raw)
                finally:
                    if path.startswith("/api/projects/"):
                        with fake.lock:  # the query ends before its answer leaves, as PostHog counts it
                            fake.running -= 1
                self._answer(status, answer, headers)

            def _run_query(self) -> bool:
                """A place among the queries running, held for `query_seconds`; False when none is free."""
                with fake.lock:
                    if fake.running >= fake.concurrent_queries:
                        return False
                    fake.running += 1
                    fake.most_running = max(fake.most_running, fake.running)
                time.sleep(fake.query_seconds)
                return True

            def _post(self, path: str, length: int, raw: bytes) -> tuple[int, dict, dict]:
                with fake.lock:
                    try:
                        body = json.loads(raw) if length <= MAX_BODY_BYTES else None
                    except ValueError:
                        body = "not json"
                    batch = body.get("batch") if isinstance(body, dict) else None
                    uuids = (
                        [str(e.get("uuid")) for e in batch if isinstance(e, dict)] if isinstance(batch, list) else []
                    )
                    headers: dict = {}
                    if length > MAX_BODY_BYTES:
                        status, answer, headers = 413, {"detail": "Payload too large"}, {}
                    elif path.startswith("/api/projects/"):
                        if fake.fail_next:
                            status, headers = fake.fail_next.pop(0)
                            answer = {"detail": "injected"}
                        elif not isinstance(body, dict):
                            status, answer = 400, {"type": "validation_error", "detail": "Malformed request"}
                        else:
                            status, answer, headers = fake._query(body, path, self.headers.get("Authorization") or "")
                        query = body.get("query") if isinstance(body, dict) else None
                        values = query.get("values") if isinstance(query, dict) else None
                        fake.queries.append({"status": status, "values": values, "at": time.monotonic()})
                    elif path not in ("/batch/", "/batch", "/capture/", "/i/v0/e/"):
                        status, answer, headers = 404, {"detail": "Not found"}, {}
                    elif fake.fail_next:
                        status, headers = fake.fail_next.pop(0)
                        answer = {"detail": "injected"}
                    elif not isinstance(body, dict):
                        status, answer, headers = 400, {"type": "validation_error", "detail": "Malformed request"}, {}
                    else:
                        status, answer, headers = fake._accept(body, path)
                    fake.requests.append({"path": path, "status": status, "uuids": uuids})
                return status, answer, headers

        return Handler


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
