"""The login lockout (django-axes) keys on the client address the API's throttles use
(weihai.middleware.client_address, NUM_PROXIES): a client cannot rotate X-Forwarded-For to
get fresh attempts, and behind a trusted proxy two people are two addresses."""

import pytest
from django.test import Client, RequestFactory

from tests.portal.test_access import PASSWORD, _with_password
from weihai.middleware import client_address

pytestmark = pytest.mark.django_db


def _fail_until_locked(settings, **headers) -> list[int]:
    answers = []
    for n in range(settings.AXES_FAILURE_LIMIT):
        client = Client(REMOTE_ADDR="10.0.0.7")
        forwarded = headers.get("forwarded", "203.0.113.{n}").format(n=n)
        response = client.post(
            "/portal/login/",
            {"username": "enterprise-a", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=forwarded,
        )
        answers.append(response.status_code)
    return answers


def test_rotating_x_forwarded_for_does_not_dodge_the_lockout(world, settings):
    _with_password(world.owner)

    answers = _fail_until_locked(settings)

    assert answers[-1] == 429


def test_behind_one_proxy_the_address_it_appended_is_the_client(world, settings):
    settings.API_NUM_PROXIES = 1
    _with_password(world.owner)
    _fail_until_locked(settings, forwarded="1.1.1.1, 198.51.100.1")

    same = Client(REMOTE_ADDR="10.0.0.7").post(
        "/portal/login/",
        {"username": "enterprise-a", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.1",  # the client's own part is ignored
    )
    neighbour = Client(REMOTE_ADDR="10.0.0.7").post(
        "/portal/login/",
        {"username": "enterprise-a", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.2",
    )

    assert same.status_code == 429
    assert neighbour.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.7"),
        (0, None, "10.0.0.7"),
        (1, "203.0.113.9, 198.51.100.1", "198.51.100.1"),
        (2, "203.0.113.9, 198.51.100.1", "203.0.113.9"),
        (3, "198.51.100.1", "198.51.100.1"),
        (1, None, "10.0.0.7"),
    ],
)
def test_client_address(settings, proxies, forwarded, expected):
    settings.API_NUM_PROXIES = proxies
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.7", **extra)

    assert client_address(request) == expected
