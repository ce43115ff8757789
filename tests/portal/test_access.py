"""Who gets in: enterprise accounts sign in with username and password; staff do not get the
portal; another enterprise's ticket is not found; a POST without the CSRF token is refused;
repeated failed logins are throttled (django-axes, by username + address)."""

import pytest
from django.test import Client

from tests.factories import EnterpriseFactory, UserFactory, enterprise_user
from tests.portal.conftest import make_ticket, signed_in
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db

PASSWORD = "Weihai-portal-2026"


def _with_password(user):
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def test_an_enterprise_signs_in_and_lands_on_its_list(world):
    _with_password(world.owner)
    client = Client()

    response = client.post("/portal/login/", {"username": "enterprise-a", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200


def test_pages_send_a_visitor_to_the_portal_login(world):
    ticket = make_ticket(world, Status.ASSIGNED)
    paths = ["/portal/", f"/portal/tickets/{ticket.pk}/", "/portal/submit/", "/portal/profile/"]
    for path in paths:
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(f"/portal/login/?next={path}")


def test_a_staff_user_cannot_sign_in_to_the_portal(world):
    _with_password(world.handler)

    response = Client().post("/portal/login/", {"username": "local-handler", "password": PASSWORD})

    assert response.status_code == 200
    assert "工作人员账号不能使用企业服务页面" in response.content.decode()
    assert "_auth_user_id" not in response.client.session


@pytest.mark.parametrize("who", ["handler", "coordinator_user", "leader_user"])
def test_a_staff_session_gets_no_portal_page(world, who):
    ticket = make_ticket(world, Status.ASSIGNED)
    client = signed_in(getattr(world, who))
    for path in ["/portal/", f"/portal/tickets/{ticket.pk}/", "/portal/submit/difficulty/"]:
        response = client.get(path)
        assert response.status_code == 403
        assert "工作人员账号不能使用企业服务页面" in response.content.decode()
    response = client.post(f"/portal/tickets/{ticket.pk}/withdraw/", {})
    assert response.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).status == Status.ASSIGNED


def test_an_is_staff_user_with_an_enterprise_account_is_still_refused(world):
    user = enterprise_user(EnterpriseFactory(), username="both", is_staff=True)
    assert signed_in(user).get("/portal/").status_code == 403


def test_a_user_without_an_enterprise_gets_a_clear_refusal(world):
    response = signed_in(UserFactory(username="nobody")).get("/portal/")
    assert response.status_code == 403
    assert "该账号未关联企业" in response.content.decode()


def test_enterprise_b_opening_a_ticket_of_enterprise_a_gets_404(world):
    ticket = make_ticket(world, Status.RESOLVED)
    other = enterprise_user(EnterpriseFactory(district=world.district), username="enterprise-b")
    client = signed_in(other)

    assert client.get(f"/portal/tickets/{ticket.pk}/").status_code == 404
    for slug, body in [("confirm", {}), ("withdraw", {}), ("rate", {"rate-score": "5"})]:
        assert client.post(f"/portal/tickets/{ticket.pk}/{slug}/", body).status_code == 404
    assert ticket.number not in client.get("/portal/").content.decode()
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.status, fresh.satisfaction) == (Status.RESOLVED, None)


def test_unknown_ids_and_actions_are_404_not_500(world):
    client = signed_in(world.owner)
    ticket = make_ticket(world, Status.RESOLVED)
    assert client.get("/portal/tickets/999999999999999999/").status_code == 404
    assert client.get("/portal/tickets/99999999999999999999/").status_code == 404
    assert client.post(f"/portal/tickets/{ticket.pk}/explode/", {}).status_code == 404
    assert client.get("/portal/submit/nonsense/").status_code == 404


def test_a_post_without_the_csrf_token_is_refused(world):
    ticket = make_ticket(world, Status.RESOLVED)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.owner)

    posts = [
        (f"/portal/tickets/{ticket.pk}/confirm/", {}),
        ("/portal/submit/difficulty/", {"title": "x", "description": "y", "category": "land"}),
        ("/portal/profile/", {"contact_name": "李四"}),
    ]
    for path, body in posts:
        assert client.post(path, body).status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED
    assert Ticket.objects.count() == 1
    # The login form too: a cross-site page cannot sign someone in.
    assert (
        Client(enforce_csrf_checks=True)
        .post("/portal/login/", {"username": "enterprise-a", "password": PASSWORD})
        .status_code
        == 403
    )


def test_the_same_page_with_its_token_is_accepted(world):
    ticket = make_ticket(world, Status.RESOLVED)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.owner)
    client.get(f"/portal/tickets/{ticket.pk}/")
    token = client.cookies["csrftoken"].value

    response = client.post(f"/portal/tickets/{ticket.pk}/confirm/", {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


def test_failed_logins_are_throttled_per_username_and_address(world, settings):
    _with_password(world.owner)
    _with_password(enterprise_user(EnterpriseFactory(), username="enterprise-c"))
    client = Client(REMOTE_ADDR="10.0.0.7")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = client.post("/portal/login/", {"username": "enterprise-a", "password": "wrong"})
        assert wrong.status_code == 200
    locked = client.post("/portal/login/", {"username": "enterprise-a", "password": "wrong"})
    assert locked.status_code == 429
    assert "登录失败次数过多，请 15 分钟后再试" in locked.content.decode()

    # Locked even with the right password, from that address …
    right = client.post("/portal/login/", {"username": "enterprise-a", "password": PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    # … while another account from the same address, and the same account from elsewhere,
    # still sign in.
    other = Client(REMOTE_ADDR="10.0.0.7").post(
        "/portal/login/", {"username": "enterprise-c", "password": PASSWORD}
    )
    assert other.status_code == 302
    elsewhere = Client(REMOTE_ADDR="10.0.0.8").post(
        "/portal/login/", {"username": "enterprise-a", "password": PASSWORD}
    )
    assert elsewhere.status_code == 302


def test_the_admin_login_is_throttled_too(world, settings):
    _with_password(world.handler)
    client = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/admin/login/", {"username": "local-handler", "password": "wrong"})
    assert response.status_code == 429
    assert "请管理员重设密码" in response.content.decode()
    right = client.post("/admin/login/", {"username": "local-handler", "password": PASSWORD})
    assert right.status_code == 429
