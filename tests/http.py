"""What the JSON API's error answers share, checked the same way by every API test."""

ERROR_KEYS = {"ok", "error", "status"}


def assert_error(r, status: int) -> dict:
    """``r`` is the API's error body with ``status``: ``{"ok": false, "error",
    "status"}``, and ``fields`` when the error names the request's fields at fault."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"fields"}, body
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    if "fields" in body:
        assert body["fields"] and all(isinstance(f, str) and f for f in body["fields"]), body
    return body
