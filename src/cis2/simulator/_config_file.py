"""Reading the simulator's TOML file: options, clients and personas.

Every entry is checked as it is read, and an error names the file, the entry
(``clients[0]``, ``personas[1].roles[0]``, ``simulator``) and the field, so a
bad file is refused at start-up with the place to fix it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Set
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, Final, TypeVar

from cis2._secret import Secret
from cis2.errors import ConfigurationError
from cis2.simulator._config import (
    ClientRegistration,
    SimulatorConfig,
    SimulatorConfigError,
)
from cis2.simulator._personas import AUTHENTICATORS, Persona, Role

__all__ = ["load_config"]

_Entry = TypeVar("_Entry", ClientRegistration, Persona, Role)


def load_config(
    cls: type[SimulatorConfig], source: Path, overrides: Mapping[str, Any]
) -> SimulatorConfig:
    """The config in the TOML file at source, overrides winning."""
    return _from_document(cls, _read_toml(source), str(source), overrides)


_OPTION_NAMES: Final = frozenset(
    f.name for f in fields(SimulatorConfig) if f.name not in ("clients", "personas")
)
_CLIENT_FIELDS: Final = frozenset(f.name for f in fields(ClientRegistration))
_TUPLE_FIELDS: Final = (
    "redirect_uris",
    "post_logout_redirect_uris",
    "grant_types",
)
# What an entry's field annotations mean in TOML, for the type check made
# before the entry is built; the noun goes into the message.
_TOML_TYPES: Final[dict[str, tuple[type, str]]] = {
    "str": (str, "a string"),
    "str | None": (str, "a string"),
    "Secret | None": (str, "a string"),
    "int": (int, "a whole number"),
    "Mapping[str, Any] | None": (dict, "a table"),
    "tuple[str, ...]": (tuple, "an array of strings"),
}
_TOML_KINDS: Final[tuple[tuple[type, str], ...]] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a float"),
    (str, "a string"),
    (list, "an array"),
    (tuple, "an array"),
    (dict, "a table"),
)
# Names from CIS2's Connection Manager that mean an RFC 7591 field here.
_ALIASES: Final = {"jwks_uri_signing_algorithm": "token_endpoint_auth_signing_alg"}


def _read_toml(source: Path) -> dict[str, Any]:
    try:
        with source.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SimulatorConfigError(
            "no such file: give the path of a TOML configuration (see "
            "docs/simulator.md).",
            file=str(source),
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SimulatorConfigError(
            f"not valid TOML ({exc}).", file=str(source)
        ) from None
    except OSError as exc:
        raise SimulatorConfigError(
            f"cannot be read: {exc.strerror}.", file=str(source)
        ) from None


def _from_document(
    cls: type[SimulatorConfig],
    document: Mapping[str, Any],
    file: str,
    overrides: Mapping[str, Any],
) -> SimulatorConfig:
    unknown = sorted(set(document) - {"simulator", "clients", "personas"})
    if unknown:
        raise SimulatorConfigError(
            f"unknown table(s) {unknown}: use [simulator], [[clients]] and "
            "[[personas]].",
            file=file,
            entry=unknown[0],
        )
    options = _options(document.get("simulator", {}), file)
    if isinstance(options.get("data_dir"), str):
        # A relative data folder is read from the file's own folder, so the
        # file means the same wherever the simulator is started from.
        options["data_dir"] = Path(file).parent / options["data_dir"]
    options.update(overrides)
    clients = tuple(
        _client(entry, file, f"clients[{i}]")
        for i, entry in enumerate(_table_list(document, "clients", file))
    )
    personas = tuple(
        _persona(entry, file, f"personas[{i}]")
        for i, entry in enumerate(_table_list(document, "personas", file))
    )
    if personas:
        options["personas"] = personas
    try:
        return cls(clients=clients, **options)
    except SimulatorConfigError as exc:
        raise SimulatorConfigError(
            _bare(exc), file=file, entry="simulator", field=exc.field
        ) from None


def _options(table: object, file: str) -> dict[str, Any]:
    if not isinstance(table, Mapping):
        raise SimulatorConfigError(
            "[simulator] must be a table of options.", file=file, entry="simulator"
        )
    unknown = sorted(set(table) - _OPTION_NAMES)
    if unknown:
        raise SimulatorConfigError(
            f"unknown option; the options are {sorted(_OPTION_NAMES)}.",
            file=file,
            entry="simulator",
            field=unknown[0],
        )
    return dict(table)


def _table_list(document: Mapping[str, Any], name: str, file: str) -> list[Any]:
    value = document.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SimulatorConfigError(
            f"{name} must be an array of tables: write [[{name}]] for each entry.",
            file=file,
            entry=name,
        )
    return value


def _client(entry: Mapping[str, Any], file: str, where: str) -> ClientRegistration:
    values = dict(entry)
    for alias, name in _ALIASES.items():
        if alias in values:
            raise SimulatorConfigError(
                f"this is Connection Manager's name: write {name} (RFC 7591).",
                file=file,
                entry=where,
                field=alias,
            )
    _refuse_unknown(values, _CLIENT_FIELDS, file, where)
    for name in _TUPLE_FIELDS:
        if name in values:
            values[name] = _string_tuple(values[name], file, where, name)
    _check_fields(
        ClientRegistration,
        values,
        file,
        where,
        required="every client needs client_id and redirect_uris.",
    )
    if "client_secret" in values:
        values["client_secret"] = Secret(values["client_secret"])
    return _construct(ClientRegistration, values, file, where)


def _persona(entry: Mapping[str, Any], file: str, where: str) -> Persona:
    values = dict(entry)
    _refuse_unknown(values, {f.name for f in fields(Persona)}, file, where)
    if "authenticators" in values:
        values["authenticators"] = _string_tuple(
            values["authenticators"], file, where, "authenticators"
        )
    roles = values.get("roles", [])
    if not isinstance(roles, list):
        raise SimulatorConfigError(
            "must be an array of tables: write [[personas.roles]] for each role.",
            file=file,
            entry=where,
            field="roles",
        )
    values["roles"] = tuple(
        _role(role, file, f"{where}.roles[{i}]") for i, role in enumerate(roles)
    )
    _check_fields(
        Persona,
        values,
        file,
        where,
        required="every persona needs uid, given_name and family_name; "
        f"authenticators are from {sorted(AUTHENTICATORS)}.",
    )
    return _construct(Persona, values, file, where)


def _role(entry: object, file: str, where: str) -> Role:
    if not isinstance(entry, Mapping):
        raise SimulatorConfigError(
            "each role must be a table ([[personas.roles]]).", file=file, entry=where
        )
    values: dict[str, Any] = {
        str(k): tuple(v) if isinstance(v, list) else v for k, v in entry.items()
    }
    _refuse_unknown(values, {f.name for f in fields(Role)}, file, where)
    _check_fields(
        Role,
        values,
        file,
        where,
        required="every role needs person_roleid, person_orgid, org_code, "
        "role_name and role_code.",
    )
    return _construct(Role, values, file, where)


def _check_fields(
    cls: type[_Entry],
    values: Mapping[str, Any],
    file: str,
    where: str,
    *,
    required: str,
) -> None:
    """Each required field is given, and each given field has its TOML type.

    Checked here, before the entry is built, so the error names the field
    that is wrong rather than one the constructor happened to reach.
    """
    for f in fields(cls):
        if f.name in values:
            _check_type(f.name, str(f.type), values[f.name], file, where)
        elif f.default is MISSING and f.default_factory is MISSING:
            raise SimulatorConfigError(
                f"missing: {required}", file=file, entry=where, field=f.name
            )


def _check_type(
    name: str, annotation: str, value: object, file: str, where: str
) -> None:
    expected = _TOML_TYPES.get(annotation)
    if expected is None or _fits(value, expected[0]):
        return
    raise SimulatorConfigError(
        f"must be {expected[1]}, not {_toml_kind(value)}.",
        file=file,
        entry=where,
        field=name,
    )


def _fits(value: object, kind: type) -> bool:
    # TOML's true is a Python int too, but never a whole number here.
    if isinstance(value, bool):
        return kind is bool
    if kind is tuple:
        return isinstance(value, tuple) and all(isinstance(v, str) for v in value)
    return isinstance(value, kind)


def _toml_kind(value: object) -> str:
    """What a TOML value is, in words; never the value, which may be secret."""
    if isinstance(value, list | tuple) and not all(isinstance(v, str) for v in value):
        return "an array holding other than strings"
    for kind, noun in _TOML_KINDS:
        if isinstance(value, kind):
            return noun
    return "a date or time"


def _refuse_unknown(
    values: Mapping[str, Any], known: Set[str], file: str, where: str
) -> None:
    unknown = sorted(set(values) - known)
    if unknown:
        raise SimulatorConfigError(
            f"unknown field; the fields are {sorted(known)}.",
            file=file,
            entry=where,
            field=unknown[0],
        )


def _construct(
    factory: Callable[..., _Entry], values: Mapping[str, Any], file: str, where: str
) -> _Entry:
    """factory(**values), its errors placed at file and entry."""
    try:
        return factory(**values)
    except ConfigurationError as exc:
        raise SimulatorConfigError(
            _bare(exc), file=file, entry=where, field=exc.field
        ) from None


def _string_tuple(value: object, file: str, where: str, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SimulatorConfigError(
            "must be an array of strings.", file=file, entry=where, field=name
        )
    return tuple(value)


def _bare(exc: SimulatorConfigError | ConfigurationError) -> str:
    """The message without a location prefix, so it is not written twice."""
    if isinstance(exc, SimulatorConfigError) and exc.field:
        prefix = f"field '{exc.field}': "
        if exc.message.startswith(prefix):
            return exc.message[len(prefix) :]
    return exc.message
