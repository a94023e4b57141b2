"""Hostile input, generated from our own OpenAPI schema, against the real server process.

Every operation, authenticated as an admin: no answer is a 5xx, every status is documented,
and every body matches the schema. (Positive/negative "acceptance" checks are left out on
purpose: some rules, like the configured plan names, live in config, not in the schema.)
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi import checks as openapi_checks

from ..conftest import new_server

CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
EXAMPLES = int(os.environ.get("QRSTUDIO_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = new_server(
        tmp_path_factory.mktemp("fuzz"),
        {
            # Fuzzed webhook URLs must never leave the machine: only loopback targets can pass.
            "webhooks": {"allow_http": True, "allow_private_targets": True},
            "plans": {
                "pro": {
                    "rank": 10,
                    "monthly_quota": 1000000,
                    "webhooks": True,
                    "max_webhooks": 1000,
                    "max_dynamic_qrs": 1000000,
                    "api_rate_limit": 1000000,
                },
                "free": {"rank": 0, "api_rate_limit": 1000000},
            },
            "accounts": {"default_plan": "pro"},
        },
    )
    server.start()
    yield server
    server.stop()


def test_every_operation_survives_generated_input(live):
    # schemathesis' pytest plugin (from_fixture) does not run on pytest 9, so each operation's
    # hypothesis strategy is driven here; a failure names the operation and the curl to replay it.
    api = schemathesis.openapi.from_url(f"{live.base_url}/schema/openapi.json")
    headers = live.token()
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 5
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def survives(case):
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

        survives()
