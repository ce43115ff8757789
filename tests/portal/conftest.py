"""Portal test helpers: the workflow tests' `world`, a clock pinned inside 2026 (the working
calendar covers 2024–2026), and test clients signed in as the world's people."""

import datetime as dt

import pytest
import time_machine
from django.test import Client

from tests.tickets import conftest as tickets_conftest
from tests.tickets.conftest import T0, make_ticket

world = tickets_conftest.world
NOW = T0 + dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


__all__ = ["NOW", "T0", "make_ticket", "signed_in", "world"]
