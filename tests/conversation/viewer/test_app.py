"""The viewer over plain HTTP (httpx against the running server): statuses, headers, JSON."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from conversation import Conversation
from conversation.store import SQLiteStore
from conversation.viewer import SECURITY_HEADERS, create_app
from conversation.viewer._pages import PAGE_SIZE
from tests.conversation.viewer.data import HOSTILE_TITLE, Sample
from tests.conversation.viewer.serving import Server


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?q=lisbon",
        "/?q=sintra&in=text",
        "/?in=nonsense",
        "/d/trip",
        "/c/trip",
        "/c/rich",
        f"/c/{quote('claude/sourdough', safe='')}",
        "/api/dialogues",
        "/api/conversations/trip",
        "/static/viewer.css",
        "/static/viewer.js",
    ],
)
def test_every_page_answers_200_with_the_security_headers(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 200
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "server" not in response.headers


def test_pages_are_html_and_static_files_have_their_own_types(http: httpx.Client) -> None:
    assert http.get("/").headers["content-type"] == "text/html; charset=utf-8"
    assert http.get("/static/viewer.css").headers["content-type"].startswith("text/css")
    assert http.get("/static/viewer.js").headers["content-type"].startswith("text/javascript")
    assert http.get("/api/dialogues").headers["content-type"] == "application/json"


def test_an_unknown_id_is_a_404_page_that_says_what_to_do(http: httpx.Client) -> None:
    for path in ("/c/no-such-name", "/d/0123456789abcdef", "/compare?a=trip&b=nothing"):
        response = http.get(path)
        assert response.status_code == 404, path
        assert "No such conversation" in response.text
        assert "The list of dialogues links to every one" in response.text
        assert "store.names()" not in response.text  # a page for people, not the Python API
        assert 'href="/"' in response.text
        assert (
            response.headers["content-security-policy"]
            == SECURITY_HEADERS["content-security-policy"]
        )
    api = http.get("/api/conversations/no-such-name")
    assert api.status_code == 404
    assert api.json() == {
        "error": "No such conversation",
        "detail": "No stored conversation has the id or name 'no-such-name'. The list of "
        "dialogues links to every one this store holds.",
    }


def test_an_unknown_path_and_a_missing_argument_are_clear_errors(http: httpx.Client) -> None:
    response = http.get("/nowhere")
    assert response.status_code == 404
    assert "There is no page at /nowhere." in response.text
    assert http.get("/static/../pyproject.toml").status_code == 404
    assert http.get("/static/other.js").status_code == 404
    missing = http.get("/compare?a=trip")
    assert missing.status_code == 400
    assert "give two branches to compare" in missing.text


def test_an_error_page_escapes_the_id_it_could_not_find(http: httpx.Client) -> None:
    response = http.get("/c/" + quote("<script>alert(1)</script>", safe=""))
    assert response.status_code == 404
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_the_viewer_is_read_only(http: httpx.Client, sample: Sample, method: str) -> None:
    for path in ("/", "/c/trip", "/api/conversations/trip"):
        response = http.request(method, path, content=b"name=x")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "read-only" in http.post("/c/trip").text
    assert http.head("/c/trip").status_code == 200
    assert http.get("/api/conversations/trip").json()["id"] == sample.trip.id


def test_a_host_header_of_another_site_is_refused(http: httpx.Client, server: Server) -> None:
    """A page elsewhere that rebinds its DNS name to 127.0.0.1 cannot read the store."""
    port = urlsplit(server.url).port
    for host in ("attacker.example", f"attacker.example:{port}", "localhost:1", "localhost.:80"):
        refused = http.get("/", headers={"host": host})
        assert refused.status_code == 400, host
        assert "--allow-host" in refused.text
        assert refused.headers["x-content-type-options"] == "nosniff"
        assert (
            refused.headers["content-security-policy"]
            == (SECURITY_HEADERS["content-security-policy"])
        )
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "LOCALHOST"):
        assert http.get("/", headers={"host": host}).status_code == 200, host


def test_the_json_of_the_dialogues_and_of_a_search(http: httpx.Client, sample: Sample) -> None:
    rows = http.get("/api/dialogues").json()
    assert {row["title"] for row in rows} >= {"Plan a trip to Lisbon", HOSTILE_TITLE}
    trip = next(row for row in rows if row["id"] == sample.trip[:1].id)
    assert trip["names"] == ["trip"]
    assert trip["turns"] == 4
    assert {b["id"] for b in trip["branches"]} == {sample.trip.id, sample.belem.id, sample.week.id}
    found = http.get("/api/dialogues", params={"q": "belém", "in": "text"}).json()
    assert [row["id"] for row in found] == [sample.trip[:1].id]
    assert found[0]["match"]["branch"] == sample.belem.id
    assert found[0]["match"]["turn"] == 4
    assert http.get("/api/dialogues", params={"q": "belém", "in": "title"}).json() == []


def test_the_json_of_a_conversation_is_its_saved_form(http: httpx.Client, sample: Sample) -> None:
    body = http.get("/api/conversations/" + sample.rich[:2].id).json()
    assert body["id"] == sample.rich[:2].id
    assert body["dialogue"] == sample.rich[:1].id
    assert body["names"] == []
    assert Conversation.loads(orjson.dumps(body["saved"])) == sample.rich[:2]


def test_a_long_list_comes_in_pages(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "many.db") as store:
        for number in range(PAGE_SIZE + 20):
            store.save(Conversation().user(f"question {number}"))
    server = Server.start(tmp_path / "many.db")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            first = http.get("/").text
            assert first.count('<li class="dialogue">') == PAGE_SIZE
            assert "question 119" in first  # the newest first
            assert "page 1 of 2" in first
            assert 'href="/?page=2" rel="next"' in first
            second = http.get("/?page=2").text
            assert second.count('<li class="dialogue">') == 20
            assert '<ol class="dialogues" start="101">' in second
            assert "question 0<" in second
            assert 'href="/?page=1" rel="prev"' in second
            assert http.get("/?page=99").text == second  # past the end: the last page
            assert http.get("/?page=x").text == first
            found = http.get("/?q=question+1&in=text").text  # 1, 10-19, 100-119
            assert found.count('<li class="dialogue">') == 31
            assert "page 1 of" not in found
    finally:
        server.stop()


# -- failures: a damaged store, a bug -------------------------------------------------------


class _Broken(SQLiteStore):
    """A real SQLite store whose list of leaves fails the way a bug would (not a library error)."""

    def leaves(self, id: str | None = None) -> list[str]:
        raise RuntimeError("a bug in the viewer, with a secret in its message: s3cret")


def _assert_headers(headers: Mapping[str, str]) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value, name


def test_an_unexpected_failure_is_a_500_page_with_the_headers_and_no_traceback(
    tmp_path: Path,
) -> None:
    """Starlette answers a bug from outside the headers middleware: the page must carry the
    Content-Security-Policy still, say what to do, and show nothing of the exception."""
    with _Broken(tmp_path / "broken.db") as store:
        client = TestClient(create_app(store), raise_server_exceptions=False)
        client.headers["host"] = "localhost"
        page = client.get("/")
        assert page.status_code == 500
        _assert_headers(page.headers)
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "Something went wrong" in page.text
        assert "Reload it" in page.text
        assert "Traceback" not in page.text
        assert "s3cret" not in page.text
        api = client.get("/api/dialogues")
        assert api.status_code == 500
        _assert_headers(api.headers)
        assert api.json()["error"] == "Something went wrong"


def test_a_damaged_store_is_a_500_that_says_so_in_a_sentence(
    sample: Sample, tmp_path: Path
) -> None:
    """CorruptStoreError is the server's side failing, not a bad request: 500, without the
    store's raw bytes or ids."""
    copy = tmp_path / "damaged.db"
    shutil.copyfile(sample.path, copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE metadata SET data = CAST(X'7B2278223A317D' AS BLOB)")  # {"x":1}
    db.close()
    with SQLiteStore(copy) as store:
        client = TestClient(create_app(store), raise_server_exceptions=False)
        client.headers["host"] = "localhost"
        page = client.get("/c/claude%2Fsourdough")
        assert page.status_code == 500
        _assert_headers(page.headers)
        assert "Part of the store is damaged" in page.text
        assert "restore it from a backup" in page.text
        assert sample.imported.id not in page.text  # the library's message is the log's
        api = client.get("/api/conversations/claude%2Fsourdough")
        assert api.status_code == 500
        assert api.json()["error"] == "Cannot read the store"
