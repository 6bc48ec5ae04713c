"""The OpenAPI document lists every route with every answer it gives, in the hub's real error shape.

A route added without `responses=answers(...)` (hub/api/responses.py) fails here; whether the
documented answers match what a running hub sends is tests/contract's job.
"""
from __future__ import annotations

import pytest

from hub.api.responses import COMMON_ERRORS

# Served outside the OpenAPI layer on purpose: the document itself, its UI, the dashboard, WebSockets.
UNDOCUMENTED = ("/openapi.json", "/api-docs", "/static/", "/ws/", "/socket.io")
ERROR_REF = "#/components/schemas/Error"


@pytest.fixture
def document(client):
    return client.get("/openapi.json").get_json()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_every_route_is_in_the_document(app, document):
    """A route registered outside the OpenAPI blueprints (plain Flask) would be invisible to clients and the fuzzer."""
    documented = {path for path in document["paths"]}
    missing = []
    for rule in app.url_map.iter_rules():
        path = rule.rule.replace("<", "{").replace(">", "}").replace("path:", "")
        if rule.rule in ("/", "/dashboard") or rule.rule.startswith(UNDOCUMENTED) or path in documented:
            continue
        missing.append(rule.rule)
    assert missing == []


def test_every_operation_documents_a_success_answer(document):
    undocumented = [name for name, operation in operations(document)
                    if not any(status.startswith("2") for status in operation["responses"])]
    assert undocumented == []


def test_every_error_answer_is_the_hub_error_shape(document):
    """Not flask-openapi3's validation array: the hub answers {success: false, error, message}."""
    wrong = [f"{name} {status}" for name, operation in operations(document)
             for status, response in operation["responses"].items()
             if status[0] in "45" and response["content"]["application/json"]["schema"] != {"$ref": ERROR_REF}]
    assert wrong == []
    assert "ValidationErrorModel" not in document["components"]["schemas"]
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"success", "error", "message"}


def test_key_protected_operations_document_401_and_403(document):
    missing = [name for name, operation in operations(document)
               if operation.get("security") and not {"401", "403"} <= set(operation["responses"])]
    assert missing == []
    assert {str(status) for status in COMMON_ERRORS} <= set(document["paths"]["/api/sessions"]["post"]["responses"])


def test_public_operations_document_no_key_errors(document):
    for path in ("/api/health", "/uploads/{name}"):
        assert not {"401", "403"} & set(document["paths"][path]["get"]["responses"])
