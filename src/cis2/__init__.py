"""cis2: sign health and care staff in with NHS Care Identity Service 2.

The public surface is this module; everything in a module whose name starts
with an underscore is private. Names are imported on first use (PEP 562), so
`import cis2` stays cheap for the command line and for tools that need one
part of it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cis2 import environments
    from cis2._authorization import (
        LoginRequest,
    )
    from cis2._core import (
        Login,
        UserInfo,
    )
    from cis2._discovery import (
        ProviderMetadata,
    )
    from cis2._logout import (
        LogoutEvent,
    )
    from cis2._secret import (
        Secret,
    )
    from cis2.client import (
        AsyncClient,
        Client,
    )
    from cis2.errors import (
        AuthorizationError,
        CallbackError,
        Cis2Error,
        Cis2Warning,
        ConfigurationError,
        DiscoveryError,
        EndSessionError,
        InsecureSettingWarning,
        InvalidClientError,
        InvalidGrantError,
        JwksError,
        KeyLoadError,
        LogoutTokenError,
        MalformedTokenError,
        ProviderUnreachableError,
        StateMismatchError,
        TokenEndpointError,
        TokenValidationError,
        UserInfoError,
    )
    from cis2.identity import (
        Cis2User,
        NrbacRole,
        Organisation,
    )
    from cis2.keys import (
        KeySet,
        SigningKey,
        generate_signing_key,
        jwks,
        load_signing_key,
    )

__version__ = "0.1.0"

__all__ = [
    "AsyncClient",
    "AuthorizationError",
    "CallbackError",
    "Cis2Error",
    "Cis2User",
    "Cis2Warning",
    "Client",
    "ConfigurationError",
    "DiscoveryError",
    "EndSessionError",
    "InsecureSettingWarning",
    "InvalidClientError",
    "InvalidGrantError",
    "JwksError",
    "KeyLoadError",
    "KeySet",
    "Login",
    "LoginRequest",
    "LogoutEvent",
    "LogoutTokenError",
    "MalformedTokenError",
    "NrbacRole",
    "Organisation",
    "ProviderMetadata",
    "ProviderUnreachableError",
    "Secret",
    "SigningKey",
    "StateMismatchError",
    "TokenEndpointError",
    "TokenValidationError",
    "UserInfo",
    "UserInfoError",
    "__version__",
    "environments",
    "generate_signing_key",
    "jwks",
    "load_signing_key",
]

_EXPORTS: dict[str, str] = {
    "AsyncClient": "cis2.client",
    "AuthorizationError": "cis2.errors",
    "CallbackError": "cis2.errors",
    "Cis2Error": "cis2.errors",
    "Cis2User": "cis2.identity",
    "Cis2Warning": "cis2.errors",
    "Client": "cis2.client",
    "ConfigurationError": "cis2.errors",
    "DiscoveryError": "cis2.errors",
    "EndSessionError": "cis2.errors",
    "InsecureSettingWarning": "cis2.errors",
    "InvalidClientError": "cis2.errors",
    "InvalidGrantError": "cis2.errors",
    "JwksError": "cis2.errors",
    "KeyLoadError": "cis2.errors",
    "KeySet": "cis2.keys",
    "Login": "cis2._core",
    "LoginRequest": "cis2._authorization",
    "LogoutEvent": "cis2._logout",
    "LogoutTokenError": "cis2.errors",
    "MalformedTokenError": "cis2.errors",
    "NrbacRole": "cis2.identity",
    "Organisation": "cis2.identity",
    "ProviderMetadata": "cis2._discovery",
    "ProviderUnreachableError": "cis2.errors",
    "Secret": "cis2._secret",
    "SigningKey": "cis2.keys",
    "StateMismatchError": "cis2.errors",
    "TokenEndpointError": "cis2.errors",
    "TokenValidationError": "cis2.errors",
    "UserInfo": "cis2._core",
    "UserInfoError": "cis2.errors",
    "environments": "cis2.environments",
    "generate_signing_key": "cis2.keys",
    "jwks": "cis2.keys",
    "load_signing_key": "cis2.keys",
}


def __getattr__(name: str) -> object:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'cis2' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name == f"cis2.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
