"""Health checks, the OpenAPI document and the interactive API docs."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


def test_openapi_documents_the_ticket_api(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert {"get", "post"} <= set(document["paths"]["/api/v1/tickets"])
    assert "patch" in document["paths"]["/api/v1/tickets/{ticket_id}"]


def test_interactive_docs_load_their_assets_from_our_static_files(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    favicon = client.get("/static/favicon.svg")
    assert favicon.status_code == 200
    assert favicon.headers["content-type"].startswith("image/svg+xml")
