"""The OpenAPI schema and Swagger UI: public in development, staff-only by setting."""

import json

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
                assert {"400", "403", "411", "413", "415"} <= codes, (method, path)
            if method == "post" and "{id}" in path:
                assert {"409", "503"} <= codes, (method, path)
    assert {"201", "200", "422"} <= set(schema["paths"]["/api/v1/tickets/"]["post"]["responses"])


def test_the_schema_says_what_the_server_enforces(world):
    schema = client_for(world.owner).get("/api/schema/?format=json").json()
    listing = schema["paths"]["/api/v1/tickets/"]["get"]
    parameters = {p["name"]: p["schema"] for p in listing["parameters"]}
    amount = schema["components"]["schemas"]["TicketSubmitRequest"]["properties"]["amount"]

    assert schema["info"]["title"].isascii()  # generated clients name their package after it
    assert parameters["department"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert parameters["number"]["maxLength"] == 20
    assert parameters["created_after"]["pattern"] == parameters["created_before"]["pattern"]
    assert parameters["created_after"]["pattern"] == "^20[0-9]{2}-[0-9]{2}-[0-9]{2}$"
    assert parameters["page"]["minimum"] == parameters["page_size"]["minimum"] == 1
    assert parameters["overdue"] == {"type": "boolean"}
    assert set(parameters["ordering"]["items"]["enum"]) >= {"number", "-created_at"}
    # Query choices are the shared component enums, not inline ones with Chinese titles.
    assert parameters["kind"] == {"$ref": "#/components/schemas/TicketKindEnum"}
    assert parameters["status"]["items"] == {"$ref": "#/components/schemas/TicketStatusEnum"}
    assert "title" not in json.dumps(listing["parameters"])
    # An amount is a string of ASCII digits (no sign, no exponent) or a number ≥ 0.
    string, number = amount["oneOf"]
    assert string["pattern"] == "^[0-9]{1,10}(?:\\.[0-9]{1,2})?$"
    assert number["minimum"] == 0
    token = schema["components"]["securitySchemes"]["tokenAuth"]
    assert token["x-token-prefix"] == "Token"
    assert "`Authorization: Token <令牌>`" in token["description"]
    retry_after = listing["responses"]["429"]["headers"]["Retry-After"]
    assert retry_after["schema"]["pattern"] == "^[0-9]+$"
