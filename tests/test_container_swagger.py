"""The container's API reference: the OpenAPI document is well formed, describes exactly the routes the
container serves, and its examples are valid; the Swagger UI page and its assets are served offline."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
import referencing.jsonschema
from flask import Flask
from flask.testing import FlaskClient
from swagger_ui_bundle import swagger_ui_path

from emulator.container import probes, swagger
from emulator.container.analyze import routes as analyze
from emulator.container.analyze.versions import RUNTIME_VERSIONS
from emulator.web import errors

DOCUMENT_PATH = Path(swagger.__file__).with_name("openapi.json")
BASE_URI = "https://cner.test/openapi.json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

EXPECTED_OPERATIONS = {
    ("GET", "/"),
    ("GET", "/ready"),
    ("GET", "/status"),
    ("GET", "/swagger"),
    ("GET", "/swagger/openapi.json"),
    ("POST", "/language/analyze-text/jobs"),
    ("GET", "/language/analyze-text/jobs/{jobId}"),
    ("POST", "/language/analyze-text/jobs/{jobId}:cancel"),
    ("POST", "/language/:analyze-text"),
}

_RESPONSE = {
    "type": "object",
    "oneOf": [
        {"required": ["$ref"], "properties": {"$ref": {"type": "string"}}},
        {
            "required": ["description"],
            "not": {"required": ["$ref"]},
            "properties": {
                "description": {"type": "string"},
                "headers": {"type": "object", "additionalProperties": {"$ref": "#/definitions/headerOrRef"}},
                "content": {"$ref": "#/definitions/content"},
            },
        },
    ],
}
OPENAPI_30_SUBSET = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "required": ["openapi", "info", "paths"],
    "properties": {
        "openapi": {"type": "string", "pattern": r"^3\.0\.\d+$"},
        "info": {
            "type": "object",
            "required": ["title", "version"],
            "properties": {"title": {"type": "string"}, "version": {"type": "string"}},
        },
        "servers": {
            "type": "array",
            "items": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}},
        },
        "paths": {
            "type": "object",
            "patternProperties": {"^/": {"$ref": "#/definitions/pathItem"}},
            "additionalProperties": False,
        },
        "components": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "schemas": {"type": "object", "additionalProperties": {"type": "object"}},
                "parameters": {"type": "object", "additionalProperties": {"$ref": "#/definitions/parameter"}},
                "headers": {"type": "object", "additionalProperties": {"$ref": "#/definitions/header"}},
                "responses": {"type": "object", "additionalProperties": _RESPONSE},
            },
        },
    },
    "definitions": {
        "pathItem": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                **{m: {"$ref": "#/definitions/operation"} for m in METHODS},
                "summary": {"type": "string"},
                "description": {"type": "string"},
                "parameters": {"type": "array"},
            },
        },
        "operation": {
            "type": "object",
            "required": ["responses"],
            "properties": {
                "operationId": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "parameters": {
                    "type": "array",
                    "items": {
                        "oneOf": [
                            {"required": ["$ref"], "properties": {"$ref": {"type": "string"}}},
                            {"$ref": "#/definitions/parameter"},
                        ]
                    },
                },
                "requestBody": {
                    "type": "object",
                    "required": ["content"],
                    "properties": {"required": {"type": "boolean"}, "content": {"$ref": "#/definitions/content"}},
                },
                "responses": {
                    "type": "object",
                    "minProperties": 1,
                    "patternProperties": {"^([1-5][0-9][0-9]|default)$": _RESPONSE},
                    "additionalProperties": False,
                },
            },
        },
        "parameter": {
            "type": "object",
            "required": ["name", "in", "schema"],
            "not": {"required": ["$ref"]},
            "properties": {
                "name": {"type": "string"},
                "in": {"enum": ["query", "header", "path", "cookie"]},
                "required": {"type": "boolean"},
                "schema": {"type": "object"},
            },
            "oneOf": [
                {"properties": {"in": {"enum": ["path"]}, "required": {"enum": [True]}}, "required": ["required"]},
                {"properties": {"in": {"enum": ["query", "header", "cookie"]}}},
            ],
        },
        "header": {
            "type": "object",
            "required": ["schema"],
            "not": {"anyOf": [{"required": ["name"]}, {"required": ["in"]}]},
            "properties": {"description": {"type": "string"}, "schema": {"type": "object"}},
        },
        "headerOrRef": {
            "oneOf": [
                {"required": ["$ref"], "properties": {"$ref": {"type": "string"}}},
                {"$ref": "#/definitions/header"},
            ]
        },
        "content": {
            "type": "object",
            "minProperties": 1,
            "patternProperties": {
                "^[a-z]+/[a-z0-9.+-]+$": {
                    "type": "object",
                    "properties": {"schema": {"type": "object"}},
                    "not": {"required": ["example", "examples"]},
                }
            },
            "additionalProperties": False,
        },
    },
}
"""What of OpenAPI 3.0 this document uses, written after the specification (openapi-spec-validator is not
installed here): the objects, their required fields, and where a ``$ref`` may stand."""


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def app() -> Flask:
    """A Flask app with the swagger blueprint only, as the container registers it."""
    flask_app = Flask("swagger_test")
    errors.register(flask_app)
    flask_app.register_blueprint(swagger.bp)
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def walk(node: Any, where: str = "#") -> Iterator[tuple[str, Any]]:
    """Every (JSON pointer, value) in ``node``."""
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{where}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{where}/{i}")


def resolve(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for token in pointer.removeprefix("#/").split("/"):
        key = token.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schemas as JSON Schema draft 4: ``nullable: true`` becomes a ``"null"`` type."""
    if isinstance(node, dict):
        converted = {k: as_json_schema(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") is True and isinstance(node.get("type"), str):
            converted["type"] = [node["type"], "null"]
        return converted
    if isinstance(node, list):
        return [as_json_schema(v) for v in node]
    return node


def validator_for(document: dict[str, Any], schema_name: str) -> jsonschema.Draft4Validator:
    resource = referencing.jsonschema.DRAFT4.create_resource(as_json_schema(document))
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(BASE_URI, resource)
    return jsonschema.Draft4Validator(
        {"$ref": f"{BASE_URI}#/components/schemas/{schema_name}"},
        registry=registry,
        format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER,
    )


# The document -----------------------------------------------------------------------------------------


def test_the_document_has_the_structure_of_openapi_3_0(document: dict[str, Any]) -> None:
    jsonschema.Draft4Validator.check_schema(OPENAPI_30_SUBSET)
    jsonschema.Draft4Validator(OPENAPI_30_SUBSET).validate(document)
    assert document["openapi"] == "3.0.3"
    assert document["servers"] == [{"url": "/"}]


def test_the_minimal_schema_catches_a_broken_document(document: dict[str, Any]) -> None:
    broken = copy.deepcopy(document)
    del broken["paths"]["/ready"]["get"]["responses"]["200"]["description"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(OPENAPI_30_SUBSET).validate(broken)


def test_every_component_schema_is_a_valid_schema(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        try:
            jsonschema.Draft4Validator.check_schema(as_json_schema(schema))
        except jsonschema.SchemaError as exc:  # pragma: no cover - the message names the schema
            pytest.fail(f"components.schemas.{name}: {exc.message}")


def test_every_ref_resolves_within_the_document(document: dict[str, Any]) -> None:
    refs = [(where, node["$ref"]) for where, node in walk(document) if isinstance(node, dict) and "$ref" in node]
    assert len(refs) > 50
    for where, ref in refs:
        assert ref.startswith("#/components/"), f"{where}: {ref} is not a local component"
        try:
            resolve(document, ref)
        except (KeyError, IndexError, ValueError):
            pytest.fail(f"{where}: {ref} does not resolve")


def test_every_component_is_used(document: dict[str, Any]) -> None:
    refs = {node["$ref"] for _, node in walk(document) if isinstance(node, dict) and "$ref" in node}
    declared = {f"#/components/{kind}/{name}" for kind, items in document["components"].items() for name in items}
    assert declared - refs == set()


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_the_document_lists_exactly_the_container_operations(document: dict[str, Any]) -> None:
    assert set(operations(document)) == EXPECTED_OPERATIONS
    ids = [op["operationId"] for op in operations(document).values()]
    assert len(ids) == len(set(ids))


def container_routes() -> set[tuple[str, str]]:
    """Method and path of every route of the container's blueprints, in OpenAPI's template syntax."""
    flask_app = Flask("routes")
    for blueprint in (analyze.bp, probes.bp, swagger.bp):
        flask_app.register_blueprint(blueprint)
    served = set()
    for rule in flask_app.url_map.iter_rules():
        if rule.endpoint in ("static", "swagger.ui_asset") or rule.rule == "/swagger/":
            continue  # the page's assets, and the page's second address, are not API operations
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + {"job_id": "jobId"}[m[1]] + "}", rule.rule)
        served |= {(method, path) for method in rule.methods or () if method not in ("HEAD", "OPTIONS")}
    return served


def test_the_document_describes_what_the_blueprints_serve(document: dict[str, Any]) -> None:
    assert set(operations(document)) == container_routes()


def test_path_parameters_match_the_path_templates(document: dict[str, Any]) -> None:
    for (method, path), operation in operations(document).items():
        declared = [resolve(document, p["$ref"]) if "$ref" in p else p for p in operation.get("parameters", [])]
        in_path = {p["name"] for p in declared if p["in"] == "path"}
        assert in_path == set(re.findall(r"{(\w+)}", path)), f"{method} {path}"


def test_the_prediction_api_takes_the_runtime_versions(document: dict[str, Any]) -> None:
    api_version = document["components"]["parameters"]["ApiVersion"]
    assert api_version["required"] is True
    assert api_version["schema"]["enum"] == list(RUNTIME_VERSIONS)
    for (method, path), operation in operations(document).items():
        refs = [p.get("$ref") for p in operation.get("parameters", [])]
        assert ("#/components/parameters/ApiVersion" in refs) == path.startswith("/language/"), f"{method} {path}"
    job = operations(document)[("GET", "/language/analyze-text/jobs/{jobId}")]
    assert {p["$ref"].rsplit("/", 1)[1] for p in job["parameters"]} == {
        "JobId",
        "ApiVersion",
        "ShowStats",
        "Top",
        "Skip",
    }


def test_submit_answers_202_with_operation_location_and_azure_errors(document: dict[str, Any]) -> None:
    submit = operations(document)[("POST", "/language/analyze-text/jobs")]
    accepted = submit["responses"]["202"]
    assert "content" not in accepted
    assert accepted["headers"]["Operation-Location"] == {"$ref": "#/components/headers/OperationLocation"}
    for status in ("400", "403", "429", "503"):
        response = resolve(document, submit["responses"][status]["$ref"])
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    sync = operations(document)[("POST", "/language/:analyze-text")]
    assert set(sync["responses"]) == {"400"}


def test_string_index_type_defaults_to_text_elements(document: dict[str, Any]) -> None:
    parameters = document["components"]["schemas"]["CustomEntitiesTaskParameters"]["properties"]
    assert parameters["stringIndexType"]["enum"] == ["TextElements_v8", "UnicodeCodePoint", "Utf16CodeUnit"]
    assert parameters["stringIndexType"]["default"] == "TextElements_v8"


def test_job_and_task_spell_their_update_time_as_azure_does(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "lastUpdatedDateTime" in schemas["AnalyzeTextJobState"]["required"]
    assert "lastUpdateDateTime" in schemas["CustomEntityRecognitionLROResult"]["required"]


# The examples -----------------------------------------------------------------------------------------


def request_example(document: dict[str, Any]) -> Any:
    submit = operations(document)[("POST", "/language/analyze-text/jobs")]
    return submit["requestBody"]["content"]["application/json"]["example"]


def test_the_request_example_is_a_valid_job_input(document: dict[str, Any]) -> None:
    example = request_example(document)
    validator_for(document, "AnalyzeTextJobsInput").validate(example)
    assert example["tasks"][0]["kind"] == "CustomEntityRecognition"


@pytest.mark.parametrize(
    ("mutation", "complaint"),
    [
        (lambda body: body.pop("tasks"), "'tasks' is a required property"),
        (lambda body: body["tasks"][0].update(kind="EntityRecognition"), "is not one of"),
        (lambda body: body["tasks"][0]["parameters"].update(stringIndexType="Bytes"), "is not one of"),
        (lambda body: body["analysisInput"]["documents"][0].pop("id"), "'id' is a required property"),
        (lambda body: body["analysisInput"].update(documents=[]), "should be non-empty"),
    ],
)
def test_the_job_input_schema_refuses_wrong_bodies(document: dict[str, Any], mutation: Any, complaint: str) -> None:
    body = copy.deepcopy(request_example(document))
    mutation(body)
    with pytest.raises(jsonschema.ValidationError, match=complaint):
        validator_for(document, "AnalyzeTextJobsInput").validate(body)


def test_the_job_example_is_a_valid_job_state_whose_offsets_point_at_the_text(document: dict[str, Any]) -> None:
    get = operations(document)[("GET", "/language/analyze-text/jobs/{jobId}")]
    example = get["responses"]["200"]["content"]["application/json"]["example"]
    validator_for(document, "AnalyzeTextJobState").validate(example)
    text = request_example(document)["analysisInput"]["documents"][0]["text"]
    for entity in example["tasks"]["items"][0]["results"]["documents"][0]["entities"]:
        assert text[entity["offset"] : entity["offset"] + entity["length"]] == entity["text"]


def test_a_null_last_checked_time_is_a_valid_status(document: dict[str, Any]) -> None:
    status = {
        "service": "customner",
        "apiStatus": "NotChecked",
        "apiStatusMessage": "The key has not been verified with the Billing endpoint yet.",
        "serving": False,
        "stopped": False,
        "failedAttempts": 0,
        "maxFailedAttempts": 10,
        "lastCheckedDateTime": None,
    }
    validator_for(document, "ContainerStatus").validate(status)
    with pytest.raises(jsonschema.ValidationError):
        validator_for(document, "ContainerStatus").validate({**status, "lastCheckedDateTime": 0})


# The page ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/swagger", "/swagger/"])
def test_the_page_uses_only_the_containers_own_assets(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '"url": "/swagger/openapi.json"' in page
    assert '"validatorUrl": null' in page
    assert not re.search(r"https?://", page), "the page must not load anything from the network"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "/swagger/ui/swagger-ui-bundle.js" in assets
    for asset in assets:
        with client.get(asset) as fetched:
            assert fetched.status_code == 200, asset


@pytest.mark.parametrize(
    ("file", "mimetype"),
    [
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui-standalone-preset.js", "javascript"),
        ("swagger-ui.css", "text/css"),
        ("favicon-32x32.png", "image/png"),
    ],
)
def test_ui_assets_are_served_from_the_bundle(client: FlaskClient, file: str, mimetype: str) -> None:
    with client.get(f"/swagger/ui/{file}") as response:
        assert response.status_code == 200
        assert mimetype in (response.mimetype or "")
        assert response.get_data() == (Path(str(swagger_ui_path)) / file).read_bytes()


@pytest.mark.parametrize("file", ["index.html", "swagger-initializer.js", "../__init__.py", "nope.js"])
def test_other_files_are_not_served(client: FlaskClient, file: str) -> None:
    response = client.get(f"/swagger/ui/{file}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NotFound"


def test_the_document_is_served_as_json(client: FlaskClient, document: dict[str, Any]) -> None:
    response = client.get("/swagger/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == document
