"""cis2.simulator: a local CIS2 that behaves like the real one, strict where it is.

An OpenID Provider on loopback with CIS2's issuer path, endpoints, claims,
client-assertion rules and error texts (see docs/simulator.md). Its state
lives in SQLite under a data folder, so a restart loses nothing.

    from cis2.simulator import SimulatorConfig, create_app, serve
    serve(SimulatorConfig.load("simulator.toml"))
"""

from __future__ import annotations

from cis2.simulator._app import create_app, discovery_document
from cis2.simulator._config import (
    ClientRegistration,
    SimulatorConfig,
    SimulatorConfigError,
    data_dir_for,
    demo_client_key,
)
from cis2.simulator._personas import AUTHENTICATORS, Persona, Role
from cis2.simulator._server import rotate_keys, serve

__all__ = [
    "AUTHENTICATORS",
    "ClientRegistration",
    "Persona",
    "Role",
    "SimulatorConfig",
    "SimulatorConfigError",
    "create_app",
    "data_dir_for",
    "demo_client_key",
    "discovery_document",
    "rotate_keys",
    "serve",
]
