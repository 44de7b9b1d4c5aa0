"""The errors cis2 raises: one root, one subclass per place a login can fail.

Every message names the field at fault and the next step. No message, repr or
attribute ever holds a token, an authorization code, a secret or a key: the
values that callers need for diagnosis (CIS2's own ``error`` and
``error_description``, the HTTP status, the claim name) are kept as
structured attributes instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cis2.doctor import Finding

__all__ = [
    "AuthorizationError",
    "CallbackError",
    "Cis2Error",
    "Cis2Warning",
    "ConfigurationError",
    "DiscoveryError",
    "EndSessionError",
    "InsecureSettingWarning",
    "InvalidClientError",
    "InvalidGrantError",
    "JwksError",
    "KeyLoadError",
    "LogoutTokenError",
    "MalformedTokenError",
    "ProviderUnreachableError",
    "StateMismatchError",
    "TokenEndpointError",
    "TokenValidationError",
    "UserInfoError",
]


class Cis2Error(Exception):
    """The root of every error cis2 raises.

    ``field`` names the setting, parameter, header or claim at fault when
    there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(Cis2Error, ValueError):
    """A setting given to cis2 cannot work: say which and what to use."""


class KeyLoadError(Cis2Error, ValueError):
    """A signing key could not be loaded: wrong kind, password or format."""


class ProviderUnreachableError(Cis2Error):
    """An HTTP exchange with the provider failed before any answer came."""

    def __init__(self, message: str, *, url: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.url = url


class DiscoveryError(Cis2Error):
    """The discovery document could not be fetched or is not acceptable."""


class JwksError(Cis2Error):
    """The provider's JWKS could not be fetched or parsed."""


class CallbackError(Cis2Error):
    """The authorization response at the redirect URI is not acceptable."""


class AuthorizationError(CallbackError):
    """The provider answered the authorization request with an error.

    ``error`` and ``error_description`` are the provider's own values
    (RFC 6749 section 4.1.2.1).
    """

    def __init__(
        self,
        message: str,
        *,
        error: str,
        error_description: str | None = None,
    ) -> None:
        super().__init__(message, field="error")
        self.error = error
        self.error_description = error_description


class StateMismatchError(CallbackError):
    """The callback's ``state`` is not the one this login sent."""


class TokenEndpointError(Cis2Error):
    """The token endpoint refused a request.

    Keeps CIS2's ``error``, ``error_description`` and the HTTP status.
    """

    def __init__(
        self,
        message: str,
        *,
        error: str | None,
        error_description: str | None,
        status_code: int,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.error = error
        self.error_description = error_description
        self.status_code = status_code


class InvalidClientError(TokenEndpointError):
    """CIS2 refused the client authentication ("JWT is not valid").

    ``findings`` holds what the doctor's offline rules say about the
    assertion that was just sent; empty when they find nothing or when the
    client authenticated with a secret.
    """

    def __init__(
        self,
        message: str,
        *,
        error: str | None,
        error_description: str | None,
        status_code: int,
        findings: Sequence[Finding] = (),
    ) -> None:
        super().__init__(
            message,
            error=error,
            error_description=error_description,
            status_code=status_code,
            field="client_assertion",
        )
        self.findings = tuple(findings)

    def add_findings(self, findings: Sequence[Finding]) -> None:
        """Attach the doctor's findings and name the errors in the message."""
        self.findings = tuple(findings)
        errors = [f for f in self.findings if f.severity == "error"]
        if not errors:
            return
        lines = [f"- {f.rule} ({f.field}): {f.message} Fix: {f.fix}" for f in errors]
        self.message = (
            f"{self.message}\nThe offline checks found {len(errors)} problem(s) "
            "with the assertion sent:\n" + "\n".join(lines)
        )
        self.args = (self.message,)


class InvalidGrantError(TokenEndpointError):
    """The code or refresh token is unknown, used, expired or revoked."""


class TokenValidationError(Cis2Error):
    """A token failed validation; ``claim`` names the claim or header."""

    def __init__(self, message: str, *, claim: str) -> None:
        super().__init__(message, field=claim)
        self.claim = claim


class MalformedTokenError(TokenValidationError):
    """The token is not a well-formed compact JWS."""


class LogoutTokenError(TokenValidationError):
    """A back-channel logout token failed validation."""


class UserInfoError(Cis2Error):
    """The UserInfo endpoint refused the request or answered wrongly."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error: str | None = None,
        error_description: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.status_code = status_code
        self.error = error
        self.error_description = error_description


class EndSessionError(Cis2Error):
    """The provider refused the end-session request; the session may be live."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message, field="end_session_endpoint")
        self.status_code = status_code


class Cis2Warning(UserWarning):
    """The root of the warnings cis2 issues for risky but allowed choices."""


class InsecureSettingWarning(Cis2Warning):
    """A check was weakened on purpose (plain HTTP, a skipped nonce, ...)."""
