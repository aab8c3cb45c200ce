"""REST routes of an integration's field mappings (tenant-scoped, like every /api route)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    RequestBody,
)
from litestar.params import Parameter

from backend.integrations import services as integrations
from backend.integrations.controllers import provide_scope, request_meta
from backend.lib.bodies import strict_body
from backend.lib.errors import validation_error
from backend.lib.pagination import (
    choice_parameter,
    clamp_limit,
    cursor_parameter,
    limit_parameter,
    parse_choice,
)
from backend.lib.tenancy import TenantScope
from backend.mappings import services
from backend.mappings.documents import YAML_MEDIA_TYPE, read_import, to_yaml
from backend.mappings.samples import latest_payload
from backend.mappings.schemas import (
    SOURCE_PATTERN,
    MappingExport,
    MappingList,
    MappingPreview,
    MappingRestore,
    MappingSave,
    MappingSaved,
    MappingVersionPage,
    PreviewResult,
)
from backend.tenants.services import TenantContext

_FORMATS = ("json", "yaml")
_MAX_VERSION = 2**31 - 1  # PostgreSQL integer


@dataclass
class _ExportOperation(Operation):
    """The export answers YAML with `?format=yaml`: the same schema, a second media type."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content:
            json_body = next(iter(ok.content.values()))
            ok.content[YAML_MEDIA_TYPE] = OpenAPIMediaType(schema=json_body.schema)


@dataclass
class _ImportOperation(Operation):
    """The import reads its body itself (JSON, or YAML with `?format=yaml`), so Litestar
    derives no request body: state it here."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description="An export document. With `?format=yaml` the body may be YAML "
            "(JSON, a subset of YAML, is read as JSON).",
            content={
                "application/json": OpenAPIMediaType(
                    schema=Reference("#/components/schemas/MappingExport")
                )
            },
        )


def _format_parameter(description: str) -> Any:
    return choice_parameter(_FORMATS, description)


class MappingController(Controller):
    path = "/api/integrations/{integration_id:str}/mapping"
    tags = ["mappings"]
    dependencies = {"tenancy": Provide(provide_scope, sync_to_thread=False)}

    @get("/", operation_id="list_mappings", summary="The mapping in force for each source")
    async def list_mappings(self, tenancy: TenantScope, integration_id: str) -> MappingList:
        return MappingList(await services.list_mappings(tenancy, integration_id))

    @post(
        "/",
        operation_id="save_mapping",
        summary="Save a source's rules as its new current version",
        status_code=200,
    )
    async def save_mapping(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        data: MappingSave,
    ) -> MappingSaved:
        data = await strict_body(request, MappingSave)
        return MappingSaved(
            await services.save(tenancy, integration_id, data, request_meta(request))
        )

    @get(
        "/versions",
        operation_id="list_mapping_versions",
        summary="Saved versions of one source, newest first",
    )
    async def list_versions(
        self,
        tenancy: TenantScope,
        integration_id: str,
        source: str = Parameter(
            pattern=SOURCE_PATTERN, max_length=200, description="The mapped source."
        ),
        limit: int = limit_parameter(),
        cursor: str | None = cursor_parameter(),
    ) -> MappingVersionPage:
        items, next_cursor = await services.versions(
            tenancy, integration_id, source, limit=clamp_limit(limit), cursor=cursor
        )
        return MappingVersionPage(items, next_cursor)

    @post(
        "/versions/{version:int}/restore",
        operation_id="restore_mapping_version",
        summary="Make an old version's rules the source's new current version",
        status_code=200,
    )
    async def restore_version(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        data: MappingRestore,
        version: int = Parameter(ge=1, le=_MAX_VERSION, description="The version to restore."),
    ) -> MappingSaved:
        data = await strict_body(request, MappingRestore)
        return MappingSaved(
            await services.restore(
                tenancy, integration_id, version, data.source, request_meta(request)
            )
        )

    @post(
        "/preview",
        operation_id="preview_mapping",
        summary="Apply rules to a sample, or to the latest stored payload of the source",
        status_code=200,
    )
    async def preview(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        data: MappingPreview,
    ) -> PreviewResult:
        data = await strict_body(request, MappingPreview)
        integration = await integrations.get(tenancy, integration_id)
        services.check(data.rules)
        document = data.sample
        if document is None:
            document = await latest_payload(tenancy, integration, data.source)
            if document is None:
                raise validation_error(
                    "sample", f"no stored event or record of {data.source!r}: send a sample"
                )
        return services.preview(data.rules, document)

    @get(
        "/export",
        operation_id="export_mappings",
        summary="Every saved source as one document (JSON, or YAML with ?format=yaml)",
        operation_class=_ExportOperation,
    )
    async def export(
        self,
        tenancy: TenantScope,
        integration_id: str,
        format: str | None = _format_parameter("The document's format (default json)."),
    ) -> Response[MappingExport]:
        wanted = parse_choice("format", format, _FORMATS)
        document = await services.export(tenancy, integration_id)
        if wanted == "yaml":
            return Response(to_yaml(document), media_type=YAML_MEDIA_TYPE)  # type: ignore[arg-type]
        return Response(document)

    @post(
        "/import",
        operation_id="import_mappings",
        summary="Save every source of an export document, all or nothing",
        status_code=200,
        operation_class=_ImportOperation,
    )
    async def import_mappings(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        format: str | None = _format_parameter("The body's format (default json)."),
    ) -> MappingList:
        document = await read_import(request, parse_choice("format", format, _FORMATS))
        return MappingList(
            await services.import_mappings(tenancy, integration_id, document, request_meta(request))
        )
