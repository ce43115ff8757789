"""API test helpers: the workflow tests' `world`, clients authenticated by token, and a
clock pinned inside 2026 (the working calendar covers 2024–2026 only)."""

import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import CityDepartmentFactory, EnterpriseFactory, enterprise_user, staff_user
from tests.tickets import conftest as tickets_conftest
from tests.tickets.conftest import T0, at, make_ticket

# The workflow tests' three-tier world (departments, chain, coordinator, calendar).
world = tickets_conftest.world

# An hour into the world's working day: deadlines set at T0 are in the future.
NOW = T0 + dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _roomy_throttles(settings):
    # Throttling has its own test; elsewhere the quota must not interfere.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "100000/min", "anon": "100000/min"},
    }


def token_for(user) -> str:
    _instance, token = AuthToken.objects.create(user=user)
    return token


def client_for(user=None, language: str | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    if language:
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


@pytest.fixture
def parties(world):
    """The six callers of the scoping matrix, and a ticket each party owns or handles."""
    other_enterprise = EnterpriseFactory(district=world.district, name="威海另一家企业有限公司")
    other_city_handler = staff_user(world.other_city, username="kjj-handler")
    return SimpleNamespace(
        enterprise_a=world.owner,
        enterprise_b=enterprise_user(other_enterprise, username="enterprise-b"),
        other_enterprise=other_enterprise,
        staff_x=world.handler,  # world.local
        staff_y=other_city_handler,  # world.other_city
        coordinator=world.coordinator_user,
    )


@pytest.fixture
def extra_department(world):
    return CityDepartmentFactory(
        code="city-zjj", name="市住房和城乡建设局", escalates_to=world.leader
    )


__all__ = ["NOW", "T0", "at", "client_for", "make_ticket", "token_for", "world"]
