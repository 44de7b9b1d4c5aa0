"""The doctor's view of a refused or pasted assertion, when the doctor exists.

``cis2.doctor.diagnose`` arrives with its own change; when it is importable
its findings go beside the simulator's reason in the rejected-assertion log
and on the paste-a-JWT page. It runs offline and never raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cis2.doctor
from cis2.simulator._config import ClientRegistration, SimulatorConfig

__all__ = ["doctor_available", "doctor_findings"]

_diagnose: Callable[..., Any] | None = getattr(cis2.doctor, "diagnose", None)


def doctor_available() -> bool:
    return _diagnose is not None


def doctor_findings(
    token: str,
    client: ClientRegistration | None,
    config: SimulatorConfig,
    now: int,
) -> list[dict[str, str]]:
    """The doctor's findings as ``{rule, severity, message, fix}``; [] without it."""
    if _diagnose is None:
        return []
    options: dict[str, Any] = {"token_endpoint": config.token_endpoint, "now": now}
    if client is not None:
        options["client_id"] = client.client_id
        options["alg"] = client.token_endpoint_auth_signing_alg
        if client.jwks is not None:
            options["jwks"] = dict(client.jwks)
    report = _diagnose(token, **options)
    return [
        {
            "rule": str(f.rule),
            "severity": str(f.severity),
            "message": str(f.message),
            "fix": str(f.fix),
        }
        for f in report.findings
    ]
