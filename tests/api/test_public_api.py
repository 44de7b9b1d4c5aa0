"""The public surface: __all__ is honest and nothing private leaks into it."""

from __future__ import annotations

import inspect

import cis2
import cis2.errors
import cis2.identity
import cis2.keys


def test_all_names_exist_and_are_sorted() -> None:
    for name in cis2.__all__:
        assert hasattr(cis2, name), name
    assert len(set(cis2.__all__)) == len(cis2.__all__)


def test_every_public_object_is_in_all() -> None:
    public = {
        name
        for name, value in vars(cis2).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
    }
    assert public <= set(cis2.__all__)


def test_the_contract_names_are_there() -> None:
    for name in (
        "Client",
        "AsyncClient",
        "load_signing_key",
        "generate_signing_key",
        "jwks",
        "SigningKey",
        "LoginRequest",
        "Login",
        "UserInfo",
        "LogoutEvent",
        "Cis2User",
        "NrbacRole",
        "Cis2Error",
        "environments",
    ):
        assert name in cis2.__all__, name
    assert cis2.environments.INT.issuer.startswith(
        "https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/"
    )


def test_every_error_derives_from_the_root() -> None:
    for name in cis2.errors.__all__:
        value = getattr(cis2.errors, name)
        if issubclass(value, Warning):
            assert issubclass(value, cis2.Cis2Warning), name
        else:
            assert issubclass(value, cis2.Cis2Error), name


def test_submodule_all_lists_are_honest() -> None:
    for module in (cis2.errors, cis2.identity, cis2.keys):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
