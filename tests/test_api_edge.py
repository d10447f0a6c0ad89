"""The JSON API's edge as an integrator meets it (QA23a F4-F7, F9): a body in the wrong
format, deeply nested JSON, what /openapi.json declares, a PUT whose body names another
id, conditional GETs, and the smaller status codes.

Every test works on a private copy of the fake index and a temporary corpus directory.
"""

from __future__ import annotations

import json

import pytest

from . import test_web_writes
from .test_web_writes import AUTH, EN_SEED, TOKEN, assert_error, snapshot

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
