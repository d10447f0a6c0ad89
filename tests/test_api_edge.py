"""The JSON API's edge as an integrator meets it (QA23a F4-F7, F9): a body in the wrong
format, deeply nested JSON, what /openapi.json declares, a PUT whose body names another
id, conditional GETs, and the smaller status codes.

Every test works on a private copy of the fake index and a temporary corpus directory.
"""

from __future__ import annotations

import pytest

from . import test_web_writes
from .test_web_writes import AUTH, EN_SEED, assert_error, snapshot

lib = test_web_writes.lib  # the fixture: a writable copy of the fake index and corpus
client = test_web_writes.client  # the fixture: the app on it, with the admin token

TEXT = ("Customer loyalty grows when a programme rewards repeat purchases with points "
        "that members redeem for discounts and early access.")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


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
