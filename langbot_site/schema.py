"""OpenAPI: every documented response is shown inside the Service API envelope, and every operation lists the error
envelopes it can answer with. Views document only their `data`; this module adds the wrapping once for all."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_list_serializer


class EnvelopeAutoSchema(AutoSchema):
    def _is_list_view(self, serializer=None):
        # Our list routes answer an object ({"keys": [...]}), never a bare array: a documented response is a list
        # only when it is a list serializer itself.
        if serializer is not None:
            return is_list_serializer(serializer)
        return super()._is_list_view(serializer)


ERROR_ENVELOPE = "ErrorEnvelope"
ERROR_STATUSES = {
    "400": "Malformed JSON, a missing or wrong-typed field, or an invalid value",
    "401": "No credentials, or a bad, expired or revoked key or token",
    "403": "Valid credentials without the scope this route needs",
    "404": "Unknown resource",
    "413": "Body or upload above the configured limit",
    "429": "Throttled",
    "503": "A dependency (database, broker) is down",
}
PUBLIC_ERROR_STATUSES = {"400", "404", "413", "429", "503"}


def _envelope(data_schema):
    return {
        "type": "object",
        "properties": {
            "code": {"type": "integer", "enum": [0]},
            "msg": {"type": "string", "example": "ok"},
            "data": data_schema,
        },
        "required": ["code", "msg", "data"],
    }


def envelope_hook(result, generator, request, public):
    # Routes accept an optional trailing slash ("/?"); document them as the contract writes them, without it.
    result["paths"] = {path.rstrip("/") if path != "/" else path: item for path, item in result.get("paths", {}).items()}
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_ENVELOPE] = {
        "type": "object",
        "properties": {
            "code": {"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "-1 client error, -2 server error"},
            "msg": {"type": "string", "description": "Human-readable reason"},
            "errors": {"type": "object", "additionalProperties": True, "description": "Per-field details (validation)"},
        },
        "required": ["code", "msg"],
    }
    error_ref = {"$ref": f"#/components/schemas/{ERROR_ENVELOPE}"}
    for path, methods in result.get("paths", {}).items():
        if not path.startswith("/api/v1/") or path == "/api/v1/schema":
            continue
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                content = response.get("content", {})
                if status.startswith("2") and "application/json" in content:
                    content["application/json"]["schema"] = _envelope(content["application/json"].get("schema", {}))
                elif status.startswith("2") and not content:
                    response["content"] = {"application/json": {"schema": _envelope({"nullable": True})}}
                elif not status.startswith("2") and not content:  # an error a view documented by description only
                    response["content"] = {"application/json": {"schema": error_ref}}
            is_public = {} in operation.get("security", [{}]) or not operation.get("security")
            for status, description in ERROR_STATUSES.items():
                if is_public and status not in PUBLIC_ERROR_STATUSES:
                    continue
                responses.setdefault(status, {"description": description, "content": {"application/json": {"schema": error_ref}}})
    return result
