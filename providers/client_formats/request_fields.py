"""Typed reads of a client's parsed JSON body, failing with ``RequestInvalid``.

The client-format decoders (``responses_format``, ``chat_format``) read every field
through these, so a wrong type anywhere becomes one 400 naming the exact ``param``
(``input[3].arguments``), the way OpenAI reports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class RequestInvalid(Exception):
    """The client's body is not a valid request; the ingress answers 400 with ``param``."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def as_object(value: object, param: str | None) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        where = f"'{param}'" if param else "the request body"
        raise RequestInvalid(f"{where} must be a JSON object", param)
    return value


def as_list(value: object, param: str) -> Sequence[object]:
    if not isinstance(value, list | tuple):
        raise RequestInvalid(f"'{param}' must be an array", param)
    return value


def field_str(obj: Mapping[str, object], key: str, param: str) -> str:
    value = obj.get(key)
    where = _join(param, key)
    if value is None:
        raise RequestInvalid(f"missing required parameter: '{where}'", where)
    if not isinstance(value, str):
        raise RequestInvalid(f"'{where}' must be a string", where)
    return value


def optional_str(obj: Mapping[str, object], key: str, param: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise RequestInvalid(f"'{_join(param, key)}' must be a string", _join(param, key))


def optional_bool(obj: Mapping[str, object], key: str, param: str = "") -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    where = _join(param, key)
    raise RequestInvalid(f"'{where}' must be a boolean", where)


def optional_number(obj: Mapping[str, object], key: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestInvalid(f"'{key}' must be a number", key)
    return float(value)


def optional_positive_int(obj: Mapping[str, object], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestInvalid(f"'{key}' must be a positive integer", key)
    return value


def required_model(body: Mapping[str, object]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestInvalid("'model' is required and must be a non-empty string", "model")
    return model


def _join(param: str, key: str) -> str:
    return f"{param}.{key}" if param else key


__all__ = [
    "RequestInvalid",
    "as_list",
    "as_object",
    "field_str",
    "optional_bool",
    "optional_number",
    "optional_positive_int",
    "optional_str",
    "required_model",
]
