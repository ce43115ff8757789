"""A Python client generated from the live schema with openapi-python-client (offline, as an
integrator would with their token) submits a need and follows it over HTTP.

The generated project's name comes from the schema's ASCII title; query enums are the shared
component enums (one TicketStatusEnum, not one class per operation and parameter). The
package is imported from the generated folder: building a wheel would need the `wheel`
package, which is not what is under test.
"""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.api.conftest import token_for
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "weihai_enterprise_demands_api_client"


@pytest.fixture
def generated_client(world, live_server, tmp_path):
    token = token_for(world.owner)
    schema = requests.get(
        f"{live_server.url}/api/schema/?format=json",
        headers={"Authorization": f"Token {token}"},
        timeout=30,
    )
    assert schema.status_code == 200
    (tmp_path / "schema.json").write_bytes(schema.content)
    (tmp_path / "config.yaml").write_text("post_hooks: []\n")  # no formatter run
    generator = Path(sys.executable).with_name("openapi-python-client")
    generated = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(tmp_path / "schema.json"),
            "--config",
            str(tmp_path / "config.yaml"),
            "--meta",
            "setup",
            "--output-path",
            str(tmp_path / "client"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout
    sys.path.insert(0, str(tmp_path / "client"))
    try:
        yield token, tmp_path / "client"
    finally:
        sys.path.remove(str(tmp_path / "client"))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def test_a_generated_client_submits_and_follows_a_need(world, live_server, generated_client):
    token, folder = generated_client
    setup = (folder / "setup.py").read_text()
    assert 'name="weihai-enterprise-demands-api-client"' in setup
    models_folder = folder / PACKAGE / "models"
    assert all(path.name.isascii() for path in models_folder.iterdir())
    assert not list(models_folder.glob("tickets_list_status*"))  # the shared enum instead

    package = importlib.import_module(PACKAGE)
    tickets = importlib.import_module(f"{PACKAGE}.api.tickets")
    models = importlib.import_module(f"{PACKAGE}.models")
    for name in ("tickets_create", "tickets_list", "tickets_retrieve", "tickets_withdraw"):
        importlib.import_module(f"{tickets.__name__}.{name}")
    client = package.AuthenticatedClient(base_url=live_server.url, token=token, prefix="Token")

    created = tickets.tickets_create.sync_detailed(
        client=client,
        body=models.TicketSubmitRequest(
            kind=models.TicketKindEnum.DIFFICULTY,
            title="新厂房用电增容",
            description="新厂房投产需要增容 2000 千伏安。",
            category="energy",
        ),
        idempotency_key="generated-1",
    )
    assert created.status_code == 201, created.content
    ticket = created.parsed
    followed = tickets.tickets_retrieve.sync(client=client, id=ticket.id)
    listed = tickets.tickets_list.sync(client=client, status=[models.TicketStatusEnum.SUBMITTED])
    withdrawn = tickets.tickets_withdraw.sync(
        client=client, id=ticket.id, body=models.WithdrawRequestRequest(reason="已自行解决")
    )

    assert followed.number == ticket.number
    assert followed.status == models.TicketStatusEnum.SUBMITTED
    assert [row.id for row in listed.results] == [ticket.id]
    assert withdrawn.status == models.TicketStatusEnum.WITHDRAWN
    assert [event.action for event in withdrawn.events] == [
        models.ActionEnum.SUBMIT,
        models.ActionEnum.WITHDRAW,
    ]
    assert withdrawn.events[-1].reply == "已自行解决"
    assert Ticket.objects.get().status == Status.WITHDRAWN
