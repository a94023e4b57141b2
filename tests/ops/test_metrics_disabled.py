"""With the default config (no [metrics] token) /metrics does not exist."""

import pytest


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer anything"}, {"Authorization": "Bearer "}]
)
def test_without_a_token_metrics_do_not_exist(client, headers):
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 404
    assert response.json() == {"status_code": 404, "error": "not_found", "detail": "Not found"}
