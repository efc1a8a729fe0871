"""The OpenAPI schema and its browsable docs, served from vendored assets."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi_3_with_examples_and_the_sms_callbacks(client, cpd_user):
    client.force_login(cpd_user)  # anonymous callers get 401 (tests/test_web_security.py)
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    create = schema["paths"]["/api/v1/incidents/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["examples"]
    assert {"/sms/inbound/", "/sms/status/"} <= set(schema["paths"])
    assert "WebhookEvent" in schema["components"]["schemas"]
    assert {"integrationToken", "tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_the_docs_page_loads_swagger_from_our_own_static_files(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/api/docs/").content.decode()

    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(url.startswith("/") and not url.startswith("//") for url in assets), assets


def test_the_vendored_swagger_bundle_is_served(client):
    from django.contrib.staticfiles import finders

    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/shootings/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
