"""Safe parsing of what callers send: JSON bodies (the API's default parser and the phone's
offline queue), and ids and numbers from forms, query strings and paths.

A malformed request costs milliseconds and gets a 400 with a message naming the problem (and,
where one field holds it, that field), never a 500 from deep inside the ORM or the database:

- JSON: UTF-8 only; at most `MAX_BODY_BYTES`; nested at most `JSON_MAX_DEPTH` deep (the
  deepest body the portal takes is three); no NaN, Infinity or numbers too large for a float;
  no NUL character and no unpaired surrogate in any key or string (PostgreSQL cannot store
  either, and a surrogate cannot even be encoded to write a log line).
- Numbers and ids: ASCII digits only (`str.isdigit()` is true for `²`, which `int()` refuses,
  and `int()` takes `١٢`), within the range the database column holds.
"""

import json
import math
import re
import uuid

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_DEPTH = 20
_SURROGATE = re.compile("[\ud800-\udfff]")
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,18}")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class MalformedInput(ValueError):
    """The input cannot be read. `message` is safe to show; `field` names the top-level field that
    holds the problem, or is None when it is the body as a whole."""

    def __init__(self, message, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field

    def as_dict(self) -> dict:
        return {self.field or "non_field_errors": [str(self.message)]}


class TooLarge(MalformedInput):
    pass


def max_depth() -> int:
    return int(getattr(settings, "JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored, or None when it can."""
    if "\x00" in text:
        return _("Null characters are not allowed.")
    if _SURROGATE.search(text):
        return _("Unpaired surrogate characters are not allowed.")
    return None


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number too large")
    return value


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def json_loads_safe(raw: bytes | str, *, limit: int = MAX_BODY_BYTES) -> object:
    """Parse a JSON body as described above. Raises MalformedInput (BodyTooLarge for size)."""
    if len(raw) > limit:
        raise TooLarge(_("The request body is larger than %(mb)s MB.") % {"mb": limit // 1024 // 1024})
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise MalformedInput(_("Malformed JSON: the body is not UTF-8.")) from None
    except RecursionError:
        raise MalformedInput(_("Malformed JSON: nested more than %(depth)s levels deep.")
                             % {"depth": max_depth()}) from None
    except ValueError as exc:
        raise MalformedInput(_("Malformed JSON: %(error)s") % {"error": printable(str(exc))}) from None
    _check_tree(data)
    return data


def _check_tree(data: object) -> None:
    """Walk the parsed body without recursion: depth, and every key and string."""
    limit = max_depth()
    stack: list[tuple[object, int, str | None]] = [(data, 1, None)]
    while stack:
        value, depth, field = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                raise MalformedInput(_("Malformed JSON: nested more than %(depth)s levels deep.") % {"depth": limit})
            items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
            for key, child in items:
                here = field
                if key is not None:
                    problem = text_problem(key)
                    if problem:
                        raise MalformedInput(_("A field name is not valid: %(problem)s") % {"problem": problem},
                                             field=field)
                    if here is None and depth == 1:
                        here = key if _FIELD_NAME.fullmatch(key) else None
                stack.append((child, depth + 1, here))
        elif isinstance(value, str):
            problem = text_problem(value)
            if problem:
                raise MalformedInput(problem, field=field)


def printable(text: str, limit: int = 200) -> str:
    """Safe for a message or a JSON column: no NUL, no lone surrogates, no control characters."""
    return "".join(ch if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF else "?" for ch in text[:limit])


class SafeJSONParser(JSONParser):
    """DRF's parser for every API view: `json_loads_safe`, reading at most one byte over the
    limit whatever Content-Length says. Errors tied to a field are 400s keyed by that field."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            if length and int(length) > MAX_BODY_BYTES:
                raise BodyTooLarge()
        except ValueError:
            raise exceptions.ParseError(_("Invalid Content-Length.")) from None
        body = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if not body.strip():
            return {}
        try:
            return json_loads_safe(body)
        except TooLarge:
            raise BodyTooLarge() from None
        except MalformedInput as exc:
            if exc.field:
                raise exceptions.ValidationError(exc.as_dict()) from None
            raise exceptions.ParseError(str(exc.message)) from None


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = f"The request body is larger than {MAX_BODY_BYTES // 1024 // 1024} MB."
    default_code = "too_large"


# --- ids and numbers from forms, query strings and paths -----------------------------------

def int_or_none(value, *, low: int = -(2**63), high: int = 2**63 - 1) -> int | None:
    """An integer written in ASCII digits within [low, high] (a database bigint by default), or
    None for anything else: `²`, `١٢`, `1e3`, forty nines, NUL, a list."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ASCII_INT.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if low <= number <= high else None


_ASCII_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,12}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})")


def float_or_none(value) -> float | None:
    """A decimal number written in ASCII (`41.7796`), or None: no `nan`, `inf`, `1e400`, `١٢`."""
    if not isinstance(value, str) or not _ASCII_DECIMAL.fullmatch(value.strip()):
        return None
    return float(value.strip())


def uuid_or_none(value) -> uuid.UUID | None:
    """A UUID, or None for anything that is not one (instead of the ValidationError the ORM
    raises, which becomes a 500)."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None
