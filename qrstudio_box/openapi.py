"""Document our one error shape on every API operation, once, where the schema is built.

Handlers raise ApiError for 400/401/403/404/409/413/429; listing those on each handler would be
repeated on every route and forgotten on new ones, so they are added here to the generated schema.
"""

from __future__ import annotations

from litestar.openapi.spec import OpenAPI, OpenAPIMediaType, OpenAPIResponse, Reference, Schema
from litestar.openapi.spec.enums import OpenAPIType

ERROR_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["status_code", "error", "detail"],
    properties={
        "status_code": Schema(type=OpenAPIType.INTEGER),
        "error": Schema(
            type=OpenAPIType.STRING, description="bad_request, unauthorized, not_found, ..."
        ),
        "detail": Schema(
            type=OpenAPIType.STRING, description="What is wrong, starting with the field at fault"
        ),
        "field": Schema(
            type=OpenAPIType.STRING, description="The one field at fault, when there is one"
        ),
    },
)

API_ERRORS = {
    "400": "Bad input: `detail` and `field` name the field at fault",
    "401": "Missing, malformed, expired or foreign bearer token (or bad credentials)",
    "403": "Not allowed for this account or plan",
    "404": "No such resource for this owner",
    "409": "Conflicts with existing data",
    "413": "Request body too large",
    "429": "Rate limit or monthly quota reached; see Retry-After",
}


def document_errors(openapi: OpenAPI) -> OpenAPI:
    openapi.components.schemas = {**(openapi.components.schemas or {}), "Error": ERROR_SCHEMA}
    ref = Reference(ref="#/components/schemas/Error")
    for path, item in (openapi.paths or {}).items():
        if not path.startswith("/api/"):
            continue
        for method in ("get", "put", "post", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses or {}
            for status, description in API_ERRORS.items():
                responses[status] = OpenAPIResponse(
                    description=description,
                    content={"application/json": OpenAPIMediaType(schema=ref)},
                )
            operation.responses = responses
    return openapi
