"""Properties on the engine's wire (protobuf Structs) and as the providers take them.

The engine sends a secret as a wrapped value, at any depth (a fleet's `secrets` map holds them
per hook), and a value a preview does not know yet as the SDK's marker, a secret's too. The
providers take plain values, the marker kept (`sdk_internals.is_unknown` knows it). What goes
back wraps every property that is a secret by nature (a password, a token, a fleet's `secrets`)
or held one when it came in, so that state holds it encrypted.

The walk is this module's own: the SDK's `rpc.deserialize_properties` turns a secret that is not
known yet into None, which would read as "not set".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc

from ..model.fleet import SECRET_MAP
from ..provider.webhook import SECRET_KEYS
from ..sdk_internals import is_unknown

SECRET_BY_NATURE = frozenset({*SECRET_KEYS, SECRET_MAP})
SIGNATURE = "4dabf18193072939515e22adb298388d"
"""The key that marks a special value on the engine's wire; a secret's mark is `SECRET_SIGNATURE`."""
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"


def unwrapped(struct: struct_pb2.Struct) -> tuple[dict[str, Any], set[str]]:
    """A Struct's properties (nulls left out) with every secret unwrapped, and the names of those
    that held one."""
    props = json_format.MessageToDict(struct)
    revealed = {key: _reveal(value) for key, value in props.items() if value is not None}
    return {key: value for key, (value, _) in revealed.items()}, {key for key, (_, hid) in revealed.items() if hid}


def wrapped(props: Mapping[str, Any], secret: Collection[str] = ()) -> struct_pb2.Struct:
    """`props` as a Struct: each secret by nature, and each member of `secret`, wrapped whole."""
    struct = struct_pb2.Struct()
    for key, value in props.items():
        if value is None:
            continue
        value = _known(value)
        hidden = key in SECRET_BY_NATURE or key in secret
        struct[key] = {SIGNATURE: SECRET_SIGNATURE, "value": value} if hidden else value
    return struct


def _reveal(value: Any) -> tuple[Any, bool]:
    """`value` with its secrets unwrapped, at any depth, and whether it held one."""
    if isinstance(value, dict) and value.get(SIGNATURE) == SECRET_SIGNATURE:
        return _reveal(value.get("value"))[0], True
    if isinstance(value, dict):
        revealed = {key: _reveal(item) for key, item in value.items()}
        return {key: item for key, (item, _) in revealed.items()}, any(hid for _, hid in revealed.values())
    if isinstance(value, list):
        items = [_reveal(item) for item in value]
        return [item for item, _ in items], any(hid for _, hid in items)
    return value, False


def _known(value: Any) -> Any:
    """`value` with a preview's unknowns as the engine writes them."""
    if is_unknown(value):
        return rpc.UNKNOWN
    if isinstance(value, dict):
        return {key: _known(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_known(item) for item in value]
    return value
