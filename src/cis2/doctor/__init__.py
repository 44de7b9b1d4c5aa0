"""The doctor: says exactly why CIS2 would answer "JWT is not valid".

CIS2's token endpoint refuses every bad client assertion with the same
``invalid_client`` / "JWT is not valid" (reference section 4.4). The doctor
runs a list of offline rules over the assertion (or the whole token
request) and its context, and names each mistake with its fix:

    report = diagnose(assertion, client_id=..., env="int", alg="RS512",
                      jwks=read_jwks_document("jwks.json"), key="private.pem")
    print(report.to_text())

``diagnose`` never raises and never goes online; ``read_jwks_document`` and
``load_jwks`` fetch a JWKS URL when asked, and ``probe`` asks the real token
endpoint whether it accepts the client's assertion. ``RULES`` lists every
rule, in order.
"""

from __future__ import annotations

from ._diagnose import (
    Options,
    diagnose,
    diagnose_many,
    load_jwks,
    read_jwks_document,
    split_assertions,
)
from ._probe import PROBE_CODE, ProbeResult, explain_probe, probe
from ._report import Finding, Report
from ._rules import RULES, Problem, Rule

__all__ = [
    "PROBE_CODE",
    "RULES",
    "Finding",
    "Options",
    "ProbeResult",
    "Problem",
    "Report",
    "Rule",
    "diagnose",
    "diagnose_many",
    "explain_probe",
    "load_jwks",
    "probe",
    "read_jwks_document",
    "split_assertions",
]
