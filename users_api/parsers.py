"""The API's one parser: JSON, bounded so that no body of any shape reaches a view it could crash.

- Size: the body is read through `request.body`, which Django bounds by
  `DATA_UPLOAD_MAX_MEMORY_SIZE` (2.5 MB by default; `config.views.bad_request` answers a 413
  problem). Form and multipart bodies are not parsed at all (415): the API speaks JSON.
- JSON: nesting deeper than `MAX_DEPTH`, duplicate keys, `NaN`/`Infinity`, numbers beyond 64 bits
  or floats that overflow, NUL characters and lone surrogates (`"\\ud800"`, which no database can
  store) anywhere, keys included, are a 400 problem.
"""

import json
import math

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding

MAX_DEPTH = 32
MAX_INTEGER = 2**63 - 1
MIN_INTEGER = -(2**63)


def _invalid(reason):
    return ParseError(f"JSON parse error - {reason}")


def _refuse_constant(name):
    raise _invalid(f"{name} is not a JSON number.")


def _integer(text):
    number = int(text)
    if not MIN_INTEGER <= number <= MAX_INTEGER:
        raise _invalid("an integer is out of range.")
    return number


def _float(text):
    number = float(text)
    if not math.isfinite(number):
        raise _invalid("a number is out of range.")
    return number


def _object_without_duplicates(pairs):
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _invalid("an object repeats a key.")
    return result


def _check_string(value):
    if "\x00" in value:
        raise _invalid("null characters are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid("a string holds a lone surrogate.") from None


def check_value(data, max_depth=MAX_DEPTH):
    """Walk the parsed value without recursion: depth and every string (keys too)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_string(value)
        elif isinstance(value, dict | list):
            if depth > max_depth:
                raise _invalid(f"nesting deeper than {max_depth} levels.")
            if isinstance(value, dict):
                for key, item in value.items():
                    _check_string(key)
                    pending.append((item, depth + 1))
            else:
                pending.extend((item, depth + 1) for item in value)


class StrictJSONParser(JSONParser):
    """JSON with bounded depth, strict numbers, no duplicate keys, storable strings."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read()
        encoding = get_encoding(parser_context or {})
        try:
            text = body.decode(encoding)
            data = json.loads(
                text,
                parse_constant=_refuse_constant,
                parse_int=_integer,
                parse_float=_float,
                object_pairs_hook=_object_without_duplicates,
            )
        except RecursionError:
            raise _invalid(f"nesting deeper than {MAX_DEPTH} levels.") from None
        except ValueError as exc:  # also UnicodeDecodeError and json.JSONDecodeError
            raise _invalid(str(exc)) from None
        check_value(data)
        return data
