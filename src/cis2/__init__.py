"""cis2: sign health and care staff in with NHS Care Identity Service 2.

The public surface is this module; everything in a module whose name starts
with an underscore is private.
"""

from __future__ import annotations

from cis2 import environments
from cis2.errors import (
    AuthorizationError,
    CallbackError,
    Cis2Error,
    Cis2Warning,
    ConfigurationError,
    DiscoveryError,
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
from cis2.keys import (
    KeySet,
    SigningKey,
    generate_signing_key,
    jwks,
    load_signing_key,
)

__version__ = "0.1.0"

__all__ = [
    "AuthorizationError",
    "CallbackError",
    "Cis2Error",
    "Cis2Warning",
    "ConfigurationError",
    "DiscoveryError",
    "InsecureSettingWarning",
    "InvalidClientError",
    "InvalidGrantError",
    "JwksError",
    "KeyLoadError",
    "KeySet",
    "LogoutTokenError",
    "MalformedTokenError",
    "ProviderUnreachableError",
    "SigningKey",
    "StateMismatchError",
    "TokenEndpointError",
    "TokenValidationError",
    "UserInfoError",
    "__version__",
    "environments",
    "generate_signing_key",
    "jwks",
    "load_signing_key",
]
