"""The simulator's public names: each in ``__all__`` exists, and only those."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    ["cis2.simulator", "cis2.simulator.testing", "cis2.simulator.pytest_plugin"],
)
def test_all_is_honest(module: str) -> None:
    loaded = importlib.import_module(module)
    exported = set(loaded.__all__)
    # A module's own public names: those defined in it, or (for the
    # package) in its private modules, which it exists to re-export.
    own = (module, "cis2.simulator._") if module == "cis2.simulator" else (module,)
    public = {
        name
        for name, value in vars(loaded).items()
        if not name.startswith("_")
        and str(getattr(value, "__module__", "")).startswith(own)
    }

    assert all(hasattr(loaded, name) for name in exported)
    assert public <= exported, public - exported


def test_contract_names_exist() -> None:
    from cis2.simulator import SimulatorConfig, create_app, rotate_keys, serve
    from cis2.simulator.testing import client_registration, run_simulator

    assert callable(create_app) and callable(serve) and callable(rotate_keys)
    assert callable(run_simulator) and callable(client_registration)
    assert SimulatorConfig().issuer.endswith(
        ":8400/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"
    )
