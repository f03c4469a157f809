"""Property-based API fuzzing against the project's own OpenAPI schema: no 5xx, no schema violation.

Generated requests carry a valid issuer key, so they reach the handlers behind
authentication, not just the 401 path. Each operation gets its own Hypothesis
run; a few hundred cases in all.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from api.app import create_app
from api.config import Settings
from registry.runtime import Node

EXAMPLES_PER_OPERATION = 15
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]
"""Responses must conform to the schema. Schema-valid certificates may still break dataset
rules the JSON schema cannot express (dates in order, code lists), so no positive-data check."""


def test_no_generated_request_breaks_the_api(node: Node, demo_keys: dict[str, dict[str, str]]) -> None:
    app = create_app(Settings(public_url="http://testserver"), node)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {demo_keys['issuer']['api_key']}"}
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            nonlocal calls
            calls += 1
            response = case.call(headers=headers)
            if response.status_code >= 500 and response.status_code != 503:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}")
                return
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except Exception as error:  # noqa: BLE001 - collect every violation, report them together
                failures.append(f"{case.method} {case.formatted_path}: {str(error)[:400]}")

        run()
    assert calls >= 200
    assert not failures, "\n".join(sorted(set(failures))[:20])
