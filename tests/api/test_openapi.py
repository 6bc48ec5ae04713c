"""The OpenAPI document lists every route with every answer it gives, in the hub's real error shape.

A route added without `responses=answers(...)` (hub/api/responses.py) fails here; whether the
documented answers match what a running hub sends is tests/contract's job.
"""
from __future__ import annotations

import base64
import json
import re

import pytest

from hub import urlguard
from hub.api.responses import COMMON_ERRORS
from hub.contacts.numbers import phone_digits
from hub.delivery.endpoints import check_secret
from hub.errors import HubError
from hub.events import EVENT_TYPES
from hub.sessions.jids import normalise_jid

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
             if status[0] in "45" and status != "414"  # gunicorn's own answer, documented as HTML
             and "content" in response  # or an answer without a body (416 of a file range)
             and response["content"]["application/json"]["schema"] != {"$ref": ERROR_REF}]
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


def schema_of(document, model: str, field: str) -> dict:
    return document["components"]["schemas"][model]["properties"][field]


def accepts(check, value) -> bool:
    try:
        check(value)
    except HubError:
        return False
    return True


RECIPIENTS = ["+51 987-654-321", "51987654321", "(51) 987.654.321", "51987654321@c.us", "51987654321:12@s.whatsapp.net",
              "120363-1700000000@g.us", "123456789@lid", " 51987654321 ", "1234", "hola", "123@example.com",
              "51987654321:12", "٥١٩٨٧٦٥٤٣٢١", "５１９８７６５４３２１", "1-2@s.whatsapp.net", ""]


@pytest.mark.parametrize("value", RECIPIENTS)
def test_documented_recipient_rule_is_the_hubs(document, value):
    """What `to` documents is what the hub accepts: no digits of other scripts, no device suffix without a JID."""
    documented = re.match(schema_of(document, "SendBody", "to")["pattern"], value) is not None
    assert documented == accepts(normalise_jid, value)


@pytest.mark.parametrize("value", ["+51 987-654-321", "51987654321", "123456", "abc", "٥١٩٨٧٦٥٤٣٢١", "1" * 16,
                                   "51987654321@c.us", "51987654321:3@s.whatsapp.net", "51987654321:3",
                                   "51987654321@g.us", " 51987654321@c.us "])
def test_documented_phone_rule_is_the_hubs(document, value):
    documented = re.match(schema_of(document, "PairBody", "phone")["pattern"], value) is not None
    assert documented == accepts(phone_digits, value)


@pytest.mark.parametrize("value", ["http://127.0.0.1:3013/hook", "HTTPS://example.com/a?b#c", "http://[::1]:8080/",
                                   "http://[::zz]/", "http://[abc/", "ftp://example.com/", "http://a@b/",
                                   "http://h:99999/", "http://h/x\\y", "http://h/\x00", " http://h/ "])
def test_documented_url_rule_is_the_hubs(document, value):
    """Bracketed hosts that are no IPv6 address are refused (urlsplit raised ValueError: a 500)."""
    documented = re.match(schema_of(document, "WebhookBody", "url")["pattern"], value) is not None
    assert documented == accepts(urlguard.parse, value)


@pytest.mark.parametrize("size", [8, 15, 16, 17, 24, 63, 64, 65])
def test_documented_secret_rule_is_the_hubs(document, size):
    secret = "whsec_" + base64.b64encode(bytes(range(size))).decode()
    documented = re.match(schema_of(document, "WebhookBody", "secret")["pattern"], secret) is not None
    assert documented == (16 <= size <= 64) == accepts(check_secret, secret)


def test_documented_event_filter_is_the_hubs(document):
    assert schema_of(document, "ListenerBody", "events")["items"]["enum"] == ["all", *EVENT_TYPES]


def test_bounds_are_json_schema_keywords(document):
    """pydantic writes `ge`/`le` verbatim for an integer with a before-validator: no client or fuzzer reads those."""
    text = json.dumps(document)
    assert not re.search(r'"(ge|le|gt|lt)": ', text)
    send_rate = document["components"]["schemas"]["SettingsPatch"]["properties"]["sendRate"]["anyOf"][0]
    assert (send_rate["minimum"], send_rate["type"]) == (1, "integer")


def test_a_body_whose_fields_are_all_optional_may_be_left_out(document):
    """The hub reads a missing body as {} (hub/api/common.Model): the document says so."""
    assert document["paths"]["/api/sandbox/{session_id}/scan"]["post"]["requestBody"]["required"] is False
    assert document["paths"]["/api/sessions"]["post"]["requestBody"]["required"] is True


@pytest.mark.parametrize("value", ["51987654321", "51987654321@c.us", "123456789@lid", "123456789:2@lid",
                                   "123@lid", "123456789@lid ", "abc@lid", "51987654321@g.us"])
def test_documented_contact_lookup_rule_is_the_hubs(document, value):
    """The contact look-up takes a phone (phone_digits) or a LID (normalise_jid)."""
    pattern = document["paths"]["/api/sessions/{session_id}/contacts/{phone_or_jid}"]["get"]["parameters"]
    [parameter] = [p for p in pattern if p["name"] == "phone_or_jid"]
    documented = re.match(parameter["schema"]["pattern"], value) is not None
    rule = (lambda v: normalise_jid(v, "phoneOrJid")) if value.endswith("@lid") else phone_digits
    assert documented == accepts(rule, value)


def test_every_request_example_matches_its_body_schema(document):
    """Examples an integrator copies from the docs are bodies the route accepts (its schema, resolved)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    registry = Registry().with_resource("doc", Resource(contents=document, specification=DRAFT202012))
    wrong, checked = [], 0
    for name, operation in operations(document):
        media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        examples = [item["value"] for item in media.get("examples", {}).values()]
        examples += [media["example"]] if "example" in media else []
        schema = {"$ref": "doc" + media.get("schema", {}).get("$ref", "#/")}
        for example in examples:
            checked += 1
            errors = list(Draft202012Validator(schema, registry=registry).iter_errors(example))
            wrong += [f"{name}: {error.message}" for error in errors]
    assert checked >= 15 and wrong == []


def test_request_models_have_unique_names():
    """The document names a model's schema after its class: two classes of one name would show one's fields for both."""
    import importlib
    import pkgutil

    from pydantic import BaseModel

    import hub.api

    owners: dict[str, set[str]] = {}
    for module_info in pkgutil.iter_modules(hub.api.__path__):
        module = importlib.import_module(f"hub.api.{module_info.name}")
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == module.__name__:
                owners.setdefault(name, set()).add(module.__name__)
    assert {name: sorted(modules) for name, modules in owners.items() if len(modules) > 1} == {}
