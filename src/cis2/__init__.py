"""cis2: sign health and care staff in with NHS Care Identity Service 2.

The public surface is this module; everything in a module whose name starts
with an underscore is private.
"""

from __future__ import annotations

from cis2 import environments
from cis2._authorization import LoginRequest
from cis2._core import Login, UserInfo
from cis2._discovery import ProviderMetadata
from cis2._logout import LogoutEvent
from cis2._secret import Secret
from cis2.client import AsyncClient, Client
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
from cis2.identity import Cis2User, NrbacRole, Organisation
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
