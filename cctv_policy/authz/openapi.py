"""The OpenAPI 3 document of exactly what `serve` answers (GET /openapi.json)."""

from __future__ import annotations

from functools import cache
from typing import Any

from cctv_policy.registry import types

_REF = "#/components/schemas/"
_YEARS = "^(19[7-9][0-9]|2[01][0-9][0-9])-"  # the rule book computes in int64 nanoseconds
_ERROR_STATUSES = {
    "400": "Malformed request, input, Content-Length or body encoding",
    "401": "No valid bearer token (only when the server runs with --token-file)",
    "403": "A browser page of another origin sent this (Origin, Sec-Fetch-Site)",
    "405": "Method not allowed on this path (the Allow header lists the methods)",
    "408": "The request head or body did not arrive in time; the connection is closed",
    "413": "Body over the limit (64 KiB, also after gzip); the connection is closed",
    "415": "A POST with a body that is not Content-Type: application/json",
    "421": "The Host header is not a name of this server (DNS rebinding; see --allowed-host)",
    "500": "No decision (evaluation or audit log failed): access is denied",
    "503": "No decision: the server's clock reads earlier than a time it already reached",
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: str) -> dict[str, Any]:
    return {status: _json({"$ref": _REF + "Error"}, _ERROR_STATUSES[status]) for status in statuses}


def _flag(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description + " On when present with no value or `true`, as OPA "
        "reads it; any other value is off.",
        "schema": {"type": "string"},
        "allowEmptyValue": True,
    }


_PRETTY = _flag("pretty", "Indent the JSON answer.")
_METRICS = _flag(
    "metrics",
    "Include OPA's timers (timer_rego_input_parse_ns, "
    "timer_rego_query_eval_ns, timer_server_handler_ns) in the answer.",
)


def _data_path(result: str, summary: str) -> dict[str, Any]:
    answer = {
        "allOf": [
            {"$ref": _REF + "DataResponse"},
            {"type": "object", "properties": {"result": {"$ref": _REF + result}}},
        ]
    }
    ok = _json(
        answer,
        "The decision (no result when undefined: a decision without input). "
        "Sent only after its audit entry is durable.",
    )
    errors = _errors("400", "401", "403", "408", "413", "421", "500", "503")
    get = {
        "summary": summary + " (input as a URL-encoded JSON parameter)",
        "parameters": [
            {
                "name": "input",
                "in": "query",
                "required": False,
                "description": 'URL-encoded JSON like {"principal": "t.wang", '
                '"camera": "CAM-LIB-01", "at": '
                '"2026-11-18T14:30:00+08:00"}',
                "content": {"application/json": {"schema": {"$ref": _REF + "Question"}}},
            },
            _PRETTY,
            _METRICS,
        ],
        "responses": {"200": ok, **errors},
    }
    post = {
        "summary": summary,
        "parameters": [_PRETTY, _METRICS],
        "requestBody": {
            "required": False,
            "description": "Content-Type: application/json; may be gzip-compressed "
            "(Content-Encoding: gzip) or chunked; at most 64 KiB.",
            "content": {"application/json": {"schema": {"$ref": _REF + "DataRequest"}}},
        },
        "responses": {"200": ok, **errors, **_errors("415")},
    }
    return {"get": get, "head": {**get, "summary": "As GET, without a body"}, "post": post}


def _health_path(summary: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    get = {
        "summary": summary,
        "parameters": parameters,
        "responses": {
            "200": _json({"type": "object", "additionalProperties": False}, "Healthy: {}"),
            "500": _json({"$ref": _REF + "Unhealthy"}, "Unhealthy, with the reason"),
            **_errors("400", "403", "408", "413", "421"),
        },
    }
    return {"get": get, "head": {**get, "summary": "As GET, without a body"}}


@cache
def openapi_document() -> dict[str, Any]:
    question = {
        "type": "object",
        "required": ["principal", "camera", "at"],
        "nullable": True,
        "description": "null or absent: no input (the policy's default; a POST also gets OPA's "
        "api_usage_warning).",
        "properties": {
            "principal": {
                "type": "string",
                "pattern": f"^{types.PERSON_ID}$",
                "description": "Who wants to see footage (a person id).",
            },
            "camera": {"type": "string", "pattern": f"^{types.DOCUMENT_ID}$"},
            "at": {
                "type": "string",
                "format": "date-time",
                "pattern": _YEARS,
                "description": "The moment of footage (RFC 3339 with an offset, years 1970 "
                "to 2199).",
            },
            "now": {
                "description": "Ignored: the server's clock decides (and the audit log "
                "records that it was sent)."
            },
        },
    }
    schemas = {
        "Question": question,
        "DataRequest": {"type": "object", "properties": {"input": question}},
        "Decision": {
            "type": "object",
            "required": ["allow", "reason"],
            "properties": {
                "allow": {"type": "boolean"},
                "reason": {"type": "string"},
                "request": {"type": "string"},
            },
        },
        "Allow": {"type": "boolean"},
        "Package": {
            "type": "object",
            "required": ["allow"],
            "properties": {"allow": {"type": "boolean"}, "decision": {"$ref": _REF + "Decision"}},
        },
        "DataResponse": {
            "type": "object",
            "required": ["decision_id"],
            "properties": {
                "decision_id": {
                    "type": "string",
                    "format": "uuid",
                    "description": "The audit log entry of this decision.",
                },
                "warning": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "enum": ["api_usage_warning"]},
                        "message": {"type": "string"},
                    },
                },
                "metrics": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
        "Error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "enum": [
                        "invalid_parameter",
                        "unauthorized",
                        "resource_not_found",
                        "invalid_operation",
                        "internal_error",
                        "forbidden",
                        "misdirected_request",
                        "unsupported_media_type",
                        "clock_stepped_back",
                    ],
                },
                "message": {"type": "string"},
            },
        },
        "Unhealthy": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}},
        },
    }
    health_flags = [
        _flag("bundles", "Also require the newest registry to be in use (not degraded)."),
        _flag("plugins", "Also require the audit log to be writable."),
    ]
    paths = {
        "/v1/data/cctv/authz": _data_path("Package", "The whole decision document"),
        "/v1/data/cctv/authz/allow": _data_path(
            "Allow", "May this person see this camera's footage of this moment, now?"
        ),
        "/v1/data/cctv/authz/decision": _data_path(
            "Decision", "Allow, with the reason and the approving request"
        ),
        "/health": _health_path("The server can decide (OPA's /health)", health_flags),
        "/health/live": _health_path("The process is alive", []),
        "/health/ready": _health_path(
            "Ready: the newest registry is in use and the audit log is writable", []
        ),
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {
                    "200": _json({"type": "object"}, "OpenAPI 3"),
                    **_errors("400", "401", "403", "421"),
                },
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "cctv-policy decision API",
            "version": "1",
            "description": "OPA's v1 Data API for data.cctv.authz, served by `cctv-policy "
            "serve`. Every other path is a JSON 404 (resource_not_found); "
            "other methods on these paths are a JSON 405. With "
            "--token-file every path but /health* needs "
            "`Authorization: Bearer <token>`. Every path needs a Host "
            "header naming this server, and refuses browser pages of "
            "other origins.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
