"""The OpenAPI schema and Swagger UI: public in development, staff-only by setting."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import resolve
from rest_framework.test import APIClient

from api.views import not_found
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db


def test_schema_and_docs_are_public_when_api_docs_public(world, settings):
    settings.API_DOCS_PUBLIC = True

    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    docs = APIClient().get("/api/docs/")

    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


def test_schema_and_docs_are_for_staff_and_enterprise_integrators_otherwise(world, settings):
    settings.API_DOCS_PUBLIC = False
    stranger = get_user_model().objects.create_user("stranger", password="x")

    assert APIClient().get("/api/schema/").status_code == 401
    assert client_for(stranger).get("/api/schema/").status_code == 403
    assert client_for(world.owner).get("/api/schema/").status_code == 200
    assert client_for(world.owner).get("/api/docs/").status_code == 200
    assert client_for(world.handler).get("/api/schema/").status_code == 200
    assert APIClient().get("/api/docs/").status_code == 401
    browser = APIClient()
    browser.force_login(world.handler)
    assert browser.get("/api/docs/").status_code == 200


def test_every_schema_path_reaches_a_real_view(world):
    schema = client_for(world.handler).get("/api/schema/?format=json").json()

    for path in schema["paths"]:
        match = resolve(path.replace("{id}", "1"))
        assert match.func is not not_found, path


def test_every_operation_documents_its_errors(world):
    schema = client_for(world.handler).get("/api/schema/?format=json").json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "429"} <= codes, (method, path)
            assert "Retry-After" in operation["responses"]["429"]["headers"]
            if "{id}" in path:
                assert "404" in codes, (method, path)
            if method == "post":
                assert {"400", "403", "413", "415"} <= codes, (method, path)
            if method == "post" and "{id}" in path:
                assert {"409", "503"} <= codes, (method, path)
    assert {"201", "200", "422"} <= set(schema["paths"]["/api/v1/tickets/"]["post"]["responses"])
