"""Arrays as raw little-endian bytes plus (dtype, shape): the only way arrays enter or leave a file.

Nothing is pickled. Decoding trusts nothing: the dtype must be on the whitelist, the shape a
short list of non-negative ints under the element cap, and the byte length must match exactly,
all before numpy sees the bytes.
"""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from gradscope.session.schema import MAX_ELEMENTS, MAX_NDIM, MAX_TEXT_BYTES

DTYPES: dict[str, np.dtype] = {
    name: np.dtype(name).newbyteorder("<")
    for name in ("float32", "float64", "int64", "int32", "uint8", "bool")
}


class ArrayFormatError(ValueError):
    """An array description or payload that does not add up; the reader turns it into SessionError."""


# -- writing -------------------------------------------------------------------------------------

_NAMES: dict[np.dtype, str] = {}
for _name, _dtype in DTYPES.items():
    _NAMES[_dtype] = _NAMES[_dtype.newbyteorder("=")] = _name


def dtype_name(array: np.ndarray, what: str) -> str:
    name = _NAMES.get(array.dtype) or _NAMES.get(array.dtype.newbyteorder("="))
    if name is None:
        raise ValueError(f"{what}: dtype {array.dtype} cannot be stored; "
                         f"use one of {', '.join(DTYPES)}")
    return name


def encode(array: Any, what: str) -> tuple[str, tuple[int, ...], bytes]:
    """(dtype name, shape, little-endian C-order bytes) of `array`; `what` names it in errors."""
    if type(array) is not np.ndarray:
        array = np.asarray(array)
    name = dtype_name(array, what)
    if array.size > MAX_ELEMENTS or array.ndim > MAX_NDIM:
        raise ValueError(f"{what}: {array.shape} is too large to store "
                         f"(at most {MAX_ELEMENTS} elements, {MAX_NDIM} dimensions)")
    # tobytes() writes C order whatever the strides; astype is a no-op on little-endian hosts
    return name, array.shape, array.astype(DTYPES[name], copy=False).tobytes()


def shape_text(shape: list[int] | tuple[int, ...]) -> str:
    return json.dumps([int(n) for n in shape], separators=(",", ":"))


# -- reading -------------------------------------------------------------------------------------

def parse_dtype(value: Any) -> np.dtype:
    if not isinstance(value, str) or value not in DTYPES:
        raise ArrayFormatError(f"unknown dtype {_short(value)}")
    return DTYPES[value]


def parse_shape(value: Any) -> tuple[int, ...]:
    """A stored shape: JSON list of at most MAX_NDIM non-negative ints, at most MAX_ELEMENTS in all."""
    if not isinstance(value, str) or len(value) > MAX_TEXT_BYTES:
        raise ArrayFormatError(f"bad shape {_short(value)}")
    try:
        shape = json.loads(value)
    except (ValueError, RecursionError):
        raise ArrayFormatError(f"bad shape {_short(value)}") from None
    if (not isinstance(shape, list) or len(shape) > MAX_NDIM
            or not all(type(n) is int and n >= 0 for n in shape)):
        raise ArrayFormatError(f"bad shape {_short(value)}")
    # zeros hide the rest from a product ([0, 2**31, ...] holds nothing, yet numpy refuses to
    # size it): every dimension counts as at least one
    if math.prod(max(n, 1) for n in shape) > MAX_ELEMENTS:
        raise ArrayFormatError(f"shape {_short(shape)} exceeds the cap of {MAX_ELEMENTS} elements")
    return tuple(shape)


def nbytes(dtype: np.dtype, shape: tuple[int, ...]) -> int:
    return math.prod(shape) * dtype.itemsize


def decode(data: Any, dtype: np.dtype, shape: tuple[int, ...], *, writable: bool = False) -> np.ndarray:
    """One array from its checked description; read-only unless `writable`."""
    expected = nbytes(dtype, shape)
    if type(data) is not bytes:
        raise ArrayFormatError(f"payload is {type(data).__name__}, not bytes")
    if len(data) != expected:
        raise ArrayFormatError(f"payload is {len(data)} bytes, shape {list(shape)} of {dtype.name} "
                               f"needs {expected}")
    array = _native(np.frombuffer(data, dtype=dtype).reshape(shape))
    if writable and not array.flags.writeable:
        array = array.copy()
    elif not writable:
        array.setflags(write=False)
    return array


def decode_rows(rows: list[Any], dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """Stack per-step payloads into one writable array [len(rows), *shape]."""
    expected = nbytes(dtype, shape)
    for data in rows:
        if type(data) is not bytes or len(data) != expected:
            decode(data, dtype, shape)  # raises with the precise message
    buffer = bytearray(expected * len(rows))
    view = memoryview(buffer)
    for i, data in enumerate(rows):
        view[i * expected:(i + 1) * expected] = data
    return _native(np.frombuffer(buffer, dtype=dtype).reshape((len(rows), *shape)))


def _native(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind == "b":
        # a crafted byte of 2 is not a valid numpy bool; normalise to 0/1
        raw = array.view(np.uint8)
        if raw.size and raw.max() > 1:
            return raw != 0
        return array
    if not array.dtype.isnative:
        return array.astype(array.dtype.newbyteorder("="))
    return array


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
