"""api.token_lookup: the one-statement token lookup gives exactly what the ORM's
select_related query gives, with every cache filled, in one query."""

import pytest
from django.db.models import Exists, OuterRef
from knox.models import AuthToken
from knox.settings import CONSTANTS

from api.token_lookup import tokens_for_key
from enterprises.models import DepartmentMembership
from tests.factories import enterprise_user

pytestmark = pytest.mark.django_db


def _orm(token_key: str):
    return list(
        AuthToken.objects.filter(token_key=token_key)
        .select_related("user__enterprise_account__enterprise")
        .annotate(
            has_memberships=Exists(DepartmentMembership.objects.filter(user_id=OuterRef("user_id")))
        )
        .order_by("pk")
    )


def _values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _key(user) -> str:
    _instance, token = AuthToken.objects.create(user=user)
    return token[: CONSTANTS.TOKEN_KEY_LENGTH]


@pytest.mark.parametrize("who", ["owner", "handler", "coordinator_user", "nobody"])
def test_the_lookup_loads_the_same_objects_as_the_orm_in_one_query(
    world, who, django_user_model, django_assert_num_queries
):
    user = (
        django_user_model.objects.create_user("nobody") if who == "nobody" else getattr(world, who)
    )
    key = _key(user)
    (expected,) = _orm(key)

    with django_assert_num_queries(1):
        ((token, has_memberships),) = tokens_for_key(key)
    with django_assert_num_queries(0):  # every relation the caller reads is cached
        account = getattr(token.user, "enterprise_account", None)  # raises when not cached
        enterprise = None if account is None else account.enterprise
        assert account is None or account.user is token.user

    assert type(token) is AuthToken and _values(token) == _values(expected)
    assert _values(token.user) == _values(expected.user)
    assert has_memberships is expected.has_memberships is (who in ("handler", "coordinator_user"))
    expected_account = getattr(expected.user, "enterprise_account", None)
    if who == "owner":
        assert _values(account) == _values(expected_account)
        assert _values(enterprise) == _values(expected_account.enterprise)
        assert enterprise.pk == world.enterprise.pk
    else:
        assert account is None and expected_account is None
    assert token._state.adding is False and token._state.db == "default"


def test_every_token_sharing_a_key_is_returned_and_unknown_keys_none(world):
    other = enterprise_user(world.enterprise, username="second-account")
    key = _key(world.owner)
    twin, _token = AuthToken.objects.create(user=other)
    AuthToken.objects.filter(pk=twin.pk).update(token_key=key)  # knox keys are a prefix

    found = tokens_for_key(key)

    assert sorted((t.pk, t.user.username) for t, _ in found) == sorted(
        [(t.pk, t.user.username) for t in _orm(key)]
    )
    assert len(found) == 2
    assert tokens_for_key("0" * CONSTANTS.TOKEN_KEY_LENGTH) == []
