"""Reading an API request: the caller, whole-number parameters, and a JSON
body checked against its OpenAPI schema; the errors that only the API raises."""
from __future__ import annotations

from flask import current_app, g, request
from jsonschema import Draft202012Validator

from kb import search
from kb.errors import DomainError, Invalid
from kb.web import openapi


class Unauthorized(DomainError):
    status = 401


class UnsupportedMediaType(DomainError):
    status = 415


class BadRequest(DomainError):
    status = 400


class RequestEntityTooLarge(DomainError):
    status = 413


def api_actor():
    return g.api_user


# Reading the request -----------------------------------------------------------

def int_arg(name: str, default: int, maximum: int) -> int:
    """A whole-number query parameter between 1 and ``maximum``.

    :raise Invalid: (422) if it is not.
    """
    raw = request.args.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= maximum:
        message = f"{name} must be a whole number from 1 to {maximum:,}."
        raise Invalid(message, {name: message})
    return value


def paging() -> tuple[int, int]:
    return (int_arg("page", 1, openapi.MAX_PAGE),
            int_arg("per_page", current_app.config["PAGE_SIZE"], search.MAX_PER_PAGE))


def _has_surrogate(value) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, list):
        return any(_has_surrogate(item) for item in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    return False


_TOO_DEEP = object()


def _depth(value, limit: int = 64) -> int:
    """How deeply lists and objects nest in ``value`` (counting stops past ``limit``)."""
    if limit <= 0 or not isinstance(value, (list, dict)):
        return 0
    items = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(item, limit - 1) for item in items), default=0)


def json_body(schema_name: str, *, optional: bool = False) -> dict:
    """The request's JSON object, checked against the OpenAPI schema ``schema_name``.

    :raise UnsupportedMediaType: (415) if the body is not sent as application/json.
    :raise BadRequest: (400) if it is not valid JSON or nests deeper than MAX_JSON_DEPTH.
    :raise RequestEntityTooLarge: (413) if it is larger than MAX_JSON_BYTES.
    :raise Invalid: (422) with a message per field if it does not fit the schema.
    """
    if optional and not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON, with Content-Type: application/json.")
    if (request.content_length or 0) > openapi.MAX_JSON_BYTES:
        raise RequestEntityTooLarge(f"A JSON body may be up to {openapi.MAX_JSON_BYTES // 1024 // 1024} MB.")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested far too deeply for the parser
        data = _TOO_DEEP
    if data is _TOO_DEEP or _depth(data) > openapi.MAX_JSON_DEPTH:
        raise BadRequest(f"The JSON body is nested more than {openapi.MAX_JSON_DEPTH} levels deep.")
    if data is None and request.get_data(cache=True).strip() != b"null":
        raise BadRequest("The body is not valid JSON.")
    if not isinstance(data, dict):
        raise Invalid("Send a JSON object.", {"body": "Send a JSON object."})
    if _has_surrogate(data):
        raise Invalid("Text must be valid Unicode.", {"body": "Text must be valid Unicode."})
    errors = schema_errors(schema_name, data)
    if errors:
        raise Invalid("There is a problem with what was sent.", errors)
    return data


def schema_errors(schema_name: str, data: dict) -> dict[str, str]:
    """A message per top-level field of ``data`` that does not fit the schema."""
    validator = Draft202012Validator(openapi.resolved_schema(schema_name))
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        if error.validator == "additionalProperties":
            for field in sorted(set(data) - set(error.schema.get("properties", {}))):
                errors.setdefault(field, f"{field} is not a field this accepts.")
            continue
        if error.validator == "required":
            for field in error.validator_value:
                if field not in data:
                    errors.setdefault(field, f"Enter {field}.")
            continue
        field = str(error.path[0]) if error.path else "body"
        errors.setdefault(field, openapi.field_message(field, error.validator))
    return errors
