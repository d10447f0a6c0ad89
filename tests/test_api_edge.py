"""The JSON API's edge as an integrator meets it (QA23a F4-F7, F9): a body in the wrong
format, deeply nested JSON, what /openapi.json declares, a PUT whose body names another
id, conditional GETs, and the smaller status codes.

Every test works on a private copy of the fake index and a temporary corpus directory.
"""

from __future__ import annotations

import json
import re

import pytest

from . import test_web_writes
from .http import assert_error
from .test_web_writes import AUTH, EN_SEED, TOKEN, snapshot

lib = test_web_writes.lib  # the fixture: a writable copy of the fake index and corpus
client = test_web_writes.client  # the fixture: the app on it, with the admin token

TEXT = ("Customer loyalty grows when a programme rewards repeat purchases with points "
        "that members redeem for discounts and early access.")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# -- F4: JSON sent as a form ----------------------------------------------------------------
@pytest.mark.parametrize("url", ["/api/articles", "/api/concepts"])
def test_json_sent_as_a_form_is_a_415_that_does_not_echo_the_body(client, lib, url):
    """`curl -d '{...}'` sends JSON as application/x-www-form-urlencoded: the body was
    read as one field's name and echoed back in "unknown field '{...}'" (QA23a F4)."""
    body = {"text": TEXT, "id": "secret-id-xyz", "terms": {"en": ["loyalty points"]}}
    before = snapshot(lib)
    r = client.post(url, headers={**AUTH, **FORM}, content=json.dumps(body).encode())
    error = assert_error(r, 415)["error"]
    assert "looks like JSON" in error and "Content-Type: application/json" in error
    assert "secret-id-xyz" not in r.text and "Customer loyalty" not in r.text
    assert snapshot(lib) == before


@pytest.mark.parametrize("url", ["/api/articles", "/api/concepts"])
def test_the_token_is_checked_before_the_body_is_judged(client, lib, url):
    """QA23a F4: a write with no bearer header and no readable token got a 400 about its
    body; it is a 401, which says why no token was read, and quotes nothing of it."""
    body = json.dumps({"text": TEXT, "token": TOKEN, "id": "secret-id-xyz"}).encode()
    error = assert_error(client.post(url, headers=FORM, content=body), 401)["error"]
    assert "needs the admin token" in error and "looks like JSON" in error
    assert TOKEN not in error and "secret-id-xyz" not in error
    # Unknown fields, malformed JSON, an unreadable type: 401 first too.
    for kwargs in ({"data": {"txt": TEXT}},
                   {"content": b'{"text": "abc', "headers": {"content-type": "application/json"}},
                   {"content": b"x", "headers": {"content-type": "text/plain"}}):
        assert_error(client.post(url, **kwargs), 401)
    # With the token in the body, the body's own error follows (here: an unknown field).
    r = client.post(url, data={"txt": TEXT, "token": TOKEN})
    assert "unknown field 'txt'" in assert_error(r, 400)["error"]
    r = client.post(url, data={"txt": TEXT, "token": "wrong"})
    assert assert_error(r, 401)["error"] == "the admin token is wrong"


def test_patch_checks_the_token_before_the_body_too(client):
    url = f"/api/articles/{EN_SEED}"
    r = client.patch(url, headers=FORM, content=b'{"tags": ["x"], "token": "t"}')
    error = assert_error(r, 401)["error"]
    assert "needs the admin token" in error and "application/json" in error
    assert_error(client.patch(url, headers=FORM, content=b'{"tags": ["x"]}'
                              ), 401)
    assert_error(client.patch(url, json={"tagz": ["x"]}), 401)
    # With the bearer header, the body's problem as before.
    assert_error(client.patch(url, headers={**AUTH, **FORM}, content=b'{"tags": ["x"]}'), 415)
    assert "unknown field 'tagz'" in assert_error(
        client.patch(url, json={"tagz": ["x"], "token": TOKEN}), 400)["error"]


def test_an_unknown_field_name_is_quoted_short(client):
    r = client.post("/api/articles", headers=AUTH, data={"x" * 500: "1", "text": TEXT})
    error = assert_error(r, 400)["error"]
    assert "x" * 41 not in error and "unknown field 'xxxx" in error
    # Nor is a long name given twice quoted whole, before the token or after it.
    twice = ("y" * 500 + "=1&") * 2 + "text=abc"
    for headers in ({**AUTH, **FORM}, FORM):
        r = client.post("/api/articles", headers=headers, content=twice.encode())
        error = assert_error(r, 400 if headers is not FORM else 401)["error"]
        assert "y" * 41 not in error and "is given twice" in error


# -- F5: JSON nested too deeply -------------------------------------------------------------
@pytest.mark.parametrize(("method", "url"), [
    ("POST", "/api/articles"), ("PUT", f"/api/articles/{EN_SEED}"),
    ("POST", "/api/concepts"), ("PUT", "/api/concepts/bundling"),
])
def test_json_nested_too_deeply_is_a_400(client, lib, method, url, caplog):
    """QA23a F5: 100,000 nested lists were a 500 with a RecursionError traceback."""
    deep = b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    before = snapshot(lib)
    r = client.request(method, url, headers={**AUTH, "Content-Type": "application/json"},
                       content=deep)
    assert assert_error(r, 400)["error"] == "the body is not valid JSON: nested too deeply"
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text
    assert snapshot(lib) == before


# -- F6: what /openapi.json declares ----------------------------------------------------------
@pytest.fixture
def spec(client) -> dict:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()["paths"]


def _params(op: dict) -> dict[tuple[str, str], dict]:
    return {(p["in"], p["name"]): p for p in op.get("parameters", [])}


def test_if_match_is_a_declared_header_of_every_conditional_write(spec):
    """QA23a F6: If-Match was in the prose only, so a generated client could not send it."""
    for path, method in [("/api/articles/{article_id}", "put"),
                         ("/api/articles/{article_id}", "patch"),
                         ("/api/articles/{article_id}", "delete"),
                         ("/api/concepts/{concept_id}", "put"),
                         ("/api/concepts/{concept_id}", "delete")]:
        header = _params(spec[path][method]).get(("header", "If-Match"))
        assert header is not None and not header.get("required"), (path, method)
        assert "412" in header["description"]
        # One tag: an empty header or a list is a 400 (uploads.if_match).
        pattern = re.compile(header["schema"]["pattern"])
        assert all(pattern.match(v) for v in ('"3f9c0a1b2c3d4e5f"', 'W/"3f9c"', "*"))
        assert not any(pattern.match(v) for v in ("", '"a", "b"'))
        assert "ETag" in spec[path][method]["responses"]["412"]["headers"], (path, method)
    get = spec["/api/articles/{article_id}"]["get"]
    assert ("header", "If-None-Match") in _params(get)


def test_response_headers_are_declared(spec):
    art, concept = spec["/api/articles/{article_id}"], spec["/api/concepts/{concept_id}"]
    assert "ETag" in art["get"]["responses"]["200"]["headers"]
    assert "ETag" in art["get"]["responses"]["304"]["headers"]
    assert "ETag" in art["put"]["responses"]["200"]["headers"]
    assert "ETag" in art["patch"]["responses"]["200"]["headers"]
    assert "ETag" in concept["get"]["responses"]["200"]["headers"]
    assert "ETag" in concept["put"]["responses"]["200"]["headers"]
    assert {"ETag", "Location"} <= set(spec["/api/articles"]["post"]["responses"]["201"]["headers"])
    assert "Location" in spec["/api/concepts"]["post"]["responses"]["201"]["headers"]
    for path, method in [("/api/articles", "post"), ("/api/articles/{article_id}", "put"),
                         ("/api/articles/{article_id}", "patch"),
                         ("/api/articles/{article_id}", "delete"), ("/api/concepts", "post")]:
        assert "WWW-Authenticate" in spec[path][method]["responses"]["401"]["headers"]
        assert "Retry-After" in spec[path][method]["responses"]["503"]["headers"]


def test_the_limits_the_server_enforces_are_declared(spec):
    for path in ("/api/search", "/api/ask"):
        q = _params(spec[path]["get"])[("query", "q")]["schema"]
        assert (q["minLength"], q["maxLength"]) == (1, 500)
    body = spec["/api/articles"]["post"]["requestBody"]
    assert "KB_MAX_UPLOAD_BYTES" in body["description"] and "413" in body["description"]
    for kind, content in body["content"].items():
        schema = content["schema"]
        assert schema["additionalProperties"] is False, kind
        props = schema["properties"]
        assert (props["title"]["maxLength"], props["id"]["maxLength"],
                props["source"]["maxLength"]) == (300, 120, 2000), kind
    tags = body["content"]["application/json"]["schema"]["properties"]["tags"]
    assert (tags["maxItems"], tags["items"]["maxLength"]) == (20, 60)
    patch = spec["/api/articles/{article_id}"]["patch"]["requestBody"]["content"]
    assert patch["application/json"]["schema"]["minProperties"] == 1
    # A string for a concept's terms is read as comma-separated terms: the schema says so.
    concept = spec["/api/concepts"]["post"]["requestBody"]["content"]["application/json"]
    terms = concept["schema"]["properties"]["terms"]
    assert {"type": "string", "minLength": 1} in terms["additionalProperties"]["anyOf"]
    assert terms["minProperties"] == 1  # no terms at all is a 400
    # Nothing to change (the token alone) is a 400 too.
    edit = patch["application/json"]["schema"]
    assert {"required": ["tags"]} in edit["anyOf"] and len(edit["anyOf"]) == 4


def test_every_api_endpoint_declares_its_400(spec):
    """An unknown query parameter is a 400 everywhere under /api (and an unknown tag in
    /api/articles): schemathesis found 400s the spec did not list (QA23a F6)."""
    for path, ops in spec.items():
        if path.startswith("/api/"):
            for method, op in ops.items():
                assert "400" in op["responses"], (method, path)


def test_the_declared_query_limits_still_answer_in_kb_s_words(client):
    """Declaring q's lengths must not turn kb's 400 into FastAPI's 422."""
    assert assert_error(client.get("/api/search", params={"q": ""}), 400)["error"]
    r = client.get("/api/ask", params={"q": "a" * 501})
    assert assert_error(r, 400)["error"] == "the query is 501 characters long; the limit is 500"


def test_a_put_whose_body_names_another_id_is_refused(client, lib):
    """QA23a F6: PUT /api/articles/A {"id": "B", ...} replaced A and said nothing."""
    before = snapshot(lib)
    for body in ({"text": TEXT, "id": "other"}, {"text": TEXT, "id": "other", "preview": True}):
        r = client.put(f"/api/articles/{EN_SEED}", headers=AUTH, json=body)
        error = assert_error(r, 400)["error"]
        assert "'other'" in error and "keeps its id" in error
    r = client.put(f"/api/articles/{EN_SEED}", headers=AUTH, data={"text": TEXT, "id": "other"})
    assert_error(r, 400)
    assert snapshot(lib) == before
    # The URL's own id in the body is fine.
    r = client.put(f"/api/articles/{EN_SEED}", headers=AUTH,
                   json={"text": TEXT, "id": EN_SEED, "preview": True})
    assert r.status_code == 200, r.text


def test_a_string_of_terms_is_read_as_comma_separated_terms(client):
    r = client.post("/api/concepts", headers=AUTH,
                    json={"id": "quokka-points", "terms": {"en": "quokka points, qp"}})
    assert r.status_code == 201, r.text
    assert r.json()["terms"]["en"] == ["quokka points", "qp"]


# -- F9: the smaller inconsistencies ------------------------------------------------------------
def test_if_none_match_gets_a_304_while_the_article_is_unchanged(client):
    """QA23a F9: the ETag was sent, but If-None-Match still got the whole body."""
    url = f"/api/articles/{EN_SEED}"
    first = client.get(url)
    etag = first.headers["etag"]
    for header in (etag, f"W/{etag}", f'"0000000000000000", {etag}', "*"):
        r = client.get(url, headers={"If-None-Match": header})
        assert r.status_code == 304, header
        assert r.content == b"" and r.headers["etag"] == etag
    r = client.get(url, headers={"If-None-Match": '"0000000000000000"'})
    assert r.status_code == 200 and r.json()["id"] == EN_SEED
    # Changed since: the new version, in full.
    client.patch(url, headers=AUTH, json={"tags": ["changed"]})
    r = client.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag
    assert r.json()["tags"] == ["changed"]


# -- F7: the docs' table of bad inputs ------------------------------------------------------------
def test_the_docs_bad_inputs_table_says_what_the_server_answers():
    """QA23a F7: docs/adding.md gave an over-long query 422 "String should have at most
    500 characters"; the server answers 400 "the query is 501 characters long". Each
    row of the table is one of test_web_writes.BAD, whose status and words the server
    is tested against on every run: the row must say the same."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "adding.md").read_text("utf-8")
    table = doc[doc.index("### Bad inputs"):doc.index("### Storage failures")]
    rows = {m.group(1): (int(m.group(2)), m.group(3)) for m in re.finditer(
        r"^\| (.+?) \| (\d{3}) \| (.+) \| yes \|$", table, re.M)}
    assert len(rows) >= 30
    bad = {b.kind: b for b in test_web_writes.BAD}
    for kind, (status, message) in rows.items():
        assert kind in bad, f"the docs' row {kind!r} is not tested"
        assert status == bad[kind].status, kind
        assert bad[kind].match.lower() in message.lower(), kind


def test_editing_a_concept_that_does_not_exist_is_a_404_like_an_article(client):
    """QA23a F9: /add?edit=nonexistent was a 404, /concepts?edit=nonexistent a 200."""
    assert client.get("/add", params={"edit": "no-such-article"}).status_code == 404
    r = client.get("/concepts", params={"edit": "no-such-concept"})
    assert r.status_code == 404
    assert "the glossary has no concept" in r.text and "no-such-concept" in r.text
    assert client.get("/concepts", params={"edit": "bundling"}).status_code == 200
    assert client.get("/concepts").status_code == 200


def test_kb_add_and_kb_ingest_say_the_same_of_a_binary_file(run, tmp_path):
    """QA23a F9: `kb add bin.txt` said "unsupported file type (…)", `kb ingest dir/`
    "this is a binary file, not a text article", of one file."""
    folder = tmp_path / "incoming"
    folder.mkdir()
    for name, data in [("bin.txt", b"\x7fELF\x02\x01\x01" + bytes(300)),
                       ("photo.md", b"\x89PNG\r\n\x1a\n" + bytes(200))]:
        (folder / name).write_bytes(data)
        said = []
        for args in (("add", "--preview", str(folder / name)), ("ingest", str(folder / name))):
            res = run(*args)
            assert res.exit_code == 1, (args, res.stdout, res.stderr)
            line = next(ln for ln in res.stderr.splitlines() if ln.startswith("error:"))
            said.append(line.split(f"{name}: ", 1)[1])
        assert said[0] == said[1], (name, said)
        assert said[0].startswith("unsupported file type (a binary file, not text"), said


def test_a_preview_flag_of_the_wrong_type_says_what_it_may_be(client):
    """QA23a F6: JSON's "preview": 1 was told "the field 'preview' must be text"."""
    for value in (1, [True]):
        r = client.post("/api/articles", headers=AUTH, json={"text": TEXT, "preview": value})
        assert assert_error(r, 400)["error"] == (
            f"the field 'preview' must be true or false, not {value!r}")


# -- an error names the fields at fault ---------------------------------------------------------
@pytest.mark.parametrize(("method", "url", "kwargs", "status", "fields"), [
    ("get", "/api/search", {"params": {"q": "   "}}, 400, ["q"]),
    ("get", "/api/search", {"params": {"q": "x" * 600}}, 400, ["q"]),
    ("get", "/api/search", {"params": {"q": "upselling", "lang": "xx"}}, 400, ["lang"]),
    ("get", "/api/search", {"params": {"q": "upselling", "query_lang": "xx"}}, 400,
     ["query_lang"]),
    ("get", "/api/search", {"params": {"q": "upselling", "tag": "no-such-tag"}}, 400, ["tag"]),
    ("get", "/api/search", {"params": {"q": "upselling", "article": "no-such-id"}}, 400,
     ["article"]),
    ("get", "/api/search", {"params": {"q": "upselling", "k": 0}}, 422, ["k"]),
    ("post", "/api/articles", {"json": {"text": TEXT}}, 401, ["token"]),
    ("post", "/api/articles", {"json": {"text": TEXT, "id": EN_SEED}, "headers": AUTH}, 409,
     ["id"]),
    ("post", "/api/articles", {"json": {"text": TEXT, "tags": ["a,b"]}, "headers": AUTH}, 400,
     ["tags"]),
    ("post", "/api/articles", {"json": {"text": TEXT, "title": "T" * 400}, "headers": AUTH},
     400, ["title"]),
    ("post", "/api/concepts", {"json": {"terms": {"de": ["Koala<b>"]}}, "headers": AUTH}, 400,
     ["terms.de"]),
    ("post", "/api/concepts", {"json": {"terms": {}}, "headers": AUTH}, 400, ["terms"]),
    ("post", "/api/concepts", {"json": {"id": "Bad Id", "terms": {"en": ["koala"]}},
                               "headers": AUTH}, 400, ["id"]),
    ("post", "/api/concepts", {"json": {"terms": {"en": ["koala"]}, "names": {"vi": "<b>"}},
                               "headers": AUTH}, 400, ["names.vi"]),
])
def test_an_error_names_the_fields_it_is_about(client, method, url, kwargs, status, fields):
    """An integrator's form can mark the field a refusal is about, as kb's own pages do,
    without parsing the wording (which the pages did until now)."""
    body = assert_error(getattr(client, method)(url, **kwargs), status)
    assert body.get("fields") == fields, body


def test_a_term_taken_in_two_languages_names_both(client):
    """One refusal lists every taken term (QA14); its fields, every language they are in."""
    r = client.post("/api/concepts", headers=AUTH, json={
        "id": "koala", "terms": {"en": ["upstream marketing"], "ko": ["업스트림 마케팅"],
                                 "vi": ["koala"]}})
    assert assert_error(r, 409)["fields"] == ["terms.ko", "terms.en"]


def test_an_error_about_nothing_in_particular_names_no_field(client):
    body = assert_error(client.get("/api/articles/no-such-article"), 404)
    assert "fields" not in body


def test_the_cli_json_error_names_its_fields_as_the_api_does(run):
    out = run("search", "upselling", "--lang", "xx", "--json")
    assert out.exit_code == 1
    assert json.loads(out.stdout)["fields"] == ["lang"]
