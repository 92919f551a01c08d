"""Properties on the engine's wire (protobuf Structs) and as the providers take them.

The engine sends a secret as a wrapped value, at any depth (a fleet's `secrets` map holds them
per hook). The providers take plain values; what goes back wraps every property that is a
secret by nature (a password, a token, a fleet's `secrets`) or held one when it came in, so that
state holds it encrypted. A preview's unknown is the SDK's marker both ways.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import rpc

from ..model.fleet import SECRET_MAP
from ..provider.webhook import SECRET_KEYS
from ..sdk_internals import is_unknown

SECRET_BY_NATURE = frozenset({*SECRET_KEYS, SECRET_MAP})


def unwrapped(struct: struct_pb2.Struct) -> tuple[dict[str, Any], set[str]]:
    """A Struct's properties with every secret unwrapped, and the names of those that held one."""
    props = rpc.deserialize_properties(struct, keep_unknowns=True) or {}
    revealed = {key: _reveal(value) for key, value in props.items()}
    return {key: value for key, (value, _) in revealed.items()}, {key for key, (_, hid) in revealed.items() if hid}


def wrapped(props: Mapping[str, Any], secret: Collection[str] = ()) -> struct_pb2.Struct:
    """`props` as a Struct: each secret by nature, and each member of `secret`, wrapped whole."""
    struct = struct_pb2.Struct()
    for key, value in props.items():
        if value is None:
            continue
        value = _known(value)
        struct[key] = rpc.wrap_rpc_secret(value) if key in SECRET_BY_NATURE or key in secret else value
    return struct


def _reveal(value: Any) -> tuple[Any, bool]:
    """`value` with its secrets unwrapped, at any depth, and whether it held one."""
    if rpc.is_rpc_secret(value):
        return _reveal(rpc.unwrap_rpc_secret(value))[0], True
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
