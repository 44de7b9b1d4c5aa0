"""create_app in process (httpx's ASGI transport), and the pytest plugin."""

from __future__ import annotations

from pathlib import Path

import httpx

from cis2.simulator import SimulatorConfig, create_app, pytest_plugin
from cis2.simulator.testing import RunningSimulator

# The plugin's fixture, used here the way a user's conftest would enable it.
cis2_simulator = pytest_plugin.cis2_simulator


async def test_create_app_serves_discovery_in_process(tmp_path: Path) -> None:
    config = SimulatorConfig.default(data_dir=tmp_path)
    app = create_app(config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=config.base_url) as http:
        document = (
            await http.get(config.issuer + "/.well-known/openid-configuration")
        ).json()
    # The ASGI transport runs no lifespan, so the state is closed here.
    await app.state.sim.aclose()
    assert document["issuer"] == config.issuer


async def test_admin_refuses_a_client_that_is_not_on_loopback(tmp_path: Path) -> None:
    config = SimulatorConfig.default(data_dir=tmp_path)
    app = create_app(config)
    transport = httpx.ASGITransport(app=app, client=("192.0.2.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=config.base_url) as http:
        page = await http.get("/admin")
        rotate = await http.post("/admin/rotate-keys", headers={"X-Cis2-Admin": "1"})
    await app.state.sim.aclose()
    assert page.status_code == 403
    assert rotate.status_code == 403


def test_the_plugin_fixture_is_a_headless_simulator(
    cis2_simulator: RunningSimulator,
) -> None:
    assert cis2_simulator.config.headless
    assert cis2_simulator.demo_key is not None
    answer = httpx.get(f"{cis2_simulator.issuer}/connect/jwk_uri")
    assert len(answer.json()["keys"]) == 2
