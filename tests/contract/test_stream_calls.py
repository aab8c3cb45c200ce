"""Stream reads checked against the providers' published API descriptions.

Every stream any connector declares (generic list calls and named readers alike, found in
the registry, so a new declaration is checked without editing this file) is read in each
mode it supports:
- against Prism serving the provider's description: every request the reader sends, page
  after page (Prism's examples carry next-page tokens, so paging parameters are sent and
  checked too), must be one the description allows;
- against the provider's simulator, to the last page: every answer must match the
  description's response schema, so test-mode syncs see the documented shapes.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.templating.responses.exceptions import ResponseNotFound

from backend.connectors.registry import Provider, providers
from backend.connectors.spec import StreamSpec
from backend.connectors.stream_reader import reader_for
from backend.connectors.streams import PageRequest
from tests.contract.adapter_calls import RecordingTransport, make_adapter
from tests.contract.counts import description_counts
from tests.contract.descriptions import (
    DESCRIBED,
    DOCUMENTS,
    WITHOUT_DESCRIPTION,
    Document,
    through_gateway,
    undescribed_reason,
    write_test_copy,
)
from tests.contract.prism import rejection, violations
from tests.contract.test_adapters_against_prism import Served, served  # noqa: F401
from tests.contract.test_simulators_against_descriptions import (
    Loaded,
    _explain,
    described_request,
    described_response,
)

#: Streams whose list call no vendored description has: their requests go to the simulator
#: and are counted, not validated. Empty since the documents were rebuilt with every stream's
#: calls (provider_apis/README.md); a new stream whose call a document lacks is listed here
#: with the reason until its document is rebuilt.
UNDESCRIBED_STREAMS: dict[tuple[str, str], str] = {}
# Prism's examples repeat their next-page token forever: a few pages prove paging requests.
PRISM_PAGES = 3
SIMULATOR_PAGES = 100
SINCE = dt.datetime(2025, 11, 23, tzinfo=dt.UTC)
UNTIL = dt.datetime(2025, 11, 24, tzinfo=dt.UTC)
# Config a stream needs that the simulators' samples do not name.
STREAM_CONFIG: dict[str, dict[str, Any]] = {"slack": {"channel": "C0123ABCDEF"}}


def _schemas(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _schemas(item)
    elif isinstance(value, list):
        for item in value:
            yield from _schemas(item)


def nullable_means_null(doc: Document) -> None:
    """`nullable: true` allows null (OpenAPI 3.0.3, `nullable`), but openapi-core reads an
    `enum` beside it (GitHub's `state_reason`, Stripe's `automatic_tax.status`) and each
    branch of an `anyOf`/`oneOf` under it (Stripe's expandable `address`, `discount`) on
    their own: null joins the enum, and the branches get a null one."""
    for schema in list(_schemas(doc)):
        if schema.get("nullable") is not True:
            continue
        enum = schema.get("enum")
        if isinstance(enum, list) and None not in enum:
            enum.append(None)
        for combinator in ("anyOf", "oneOf"):
            if isinstance(schema.get(combinator), list):
                schema[combinator].append({"type": "string", "nullable": True, "enum": [None]})


def slack_history_paging(doc: Document) -> None:
    """conversations.history answers carry `response_metadata.next_cursor` when more pages
    follow (https://docs.slack.dev/reference/methods/conversations.history, and this
    description's own example), which its 2020 schema's additionalProperties forbids."""
    answer = doc["paths"]["/conversations.history"]["get"]["responses"]["200"]
    schema = answer["content"]["application/json"]["schema"]
    success = schema["anyOf"][0] if "anyOf" in schema else schema
    success["properties"]["response_metadata"] = {
        "type": "object",
        "properties": {"next_cursor": {"type": "string"}},
    }


#: Documents validated through Prism's copy: the published one does not load in openapi-core.
PRISM_COPY_ONLY = {
    "paypal": "four published patterns are invalid regular expressions; the Prism copy "
    "rewrites them to the same meaning (provider_apis/README.md)",
}


@functools.cache
def published(key: str, directory: str) -> Loaded:
    """The provider's document as published (Prism's copy drops the `nullable` flags that
    have no `type`, and Stripe's answers are full of them), with the same documented
    corrections, and the two below."""
    source = (
        write_test_copy(key, Path(directory))
        if key in PRISM_COPY_ONLY
        else DOCUMENTS / DESCRIBED[key].document
    )
    doc = json.loads(source.read_text(encoding="utf-8"))
    if key not in PRISM_COPY_ONLY:
        for patch in DESCRIBED[key].patches:
            patch(doc)
    nullable_means_null(doc)
    if key == "slack":
        slack_history_paging(doc)
    return doc, OpenAPI.from_dict(doc)


def readable(provider: Provider) -> list[StreamSpec]:
    return [s for s in provider.spec.streams if not s.unavailable]


def test_every_stream_is_checked_or_says_why_not() -> None:
    for key, provider in providers().items():
        for stream in readable(provider):
            described = key in DESCRIBED and (key, stream.name) not in UNDESCRIBED_STREAMS
            assert (
                described or key in WITHOUT_DESCRIPTION or (key, stream.name) in UNDESCRIBED_STREAMS
            )


def requests_of(stream: StreamSpec, cursor: dict[str, Any] | None) -> list[PageRequest]:
    """One run per mode the stream supports; incremental from `cursor` (a full run's)."""
    runs = [PageRequest(mode="full")]
    if stream.incremental is not None and cursor:
        runs.append(PageRequest(mode="incremental", cursor=cursor))
    if stream.backfill:
        runs.append(PageRequest(mode="backfill", since=SINCE, until=UNTIL))
    return runs


async def read_run(
    provider: Provider,
    stream: StreamSpec,
    run: PageRequest,
    http: httpx.AsyncClient,
    api_base_url: str,
    pages: int,
) -> dict[str, Any] | None:
    """Read up to `pages` pages of one run; the cursor of its last page if it got there."""
    adapter = make_adapter(provider, api_base_url, http)
    adapter.ctx.config.update(STREAM_CONFIG.get(provider.key, {}))
    read = reader_for(provider, stream)
    position = None
    for _ in range(pages):
        page = await read(
            adapter,
            stream,
            PageRequest(
                mode=run.mode,
                cursor=run.cursor,
                position=position,
                since=run.since,
                until=run.until,
            ),
        )
        position = page.position
        if position is None:
            return page.cursor
    return None


def _synthetic_cursor(stream: StreamSpec) -> dict[str, Any] | None:
    """A stored cursor like the one a finished run leaves, for generic streams."""
    inc = stream.incremental
    if inc is None or stream.reader:
        return None
    if inc.kind == "token":
        return {"token": "cursor-from-an-earlier-run"}
    cursor: dict[str, Any] = {"since": SINCE.isoformat()}
    if inc.etag:
        cursor["etag"] = 'W/"0123456789abcdef"'
    return cursor


_TOO_MANY = "Too many violations!"


def refusal(response: httpx.Response) -> str | None:
    """`rejection`, also when Prism cuts its `sl-violations` header short ("Too many
    violations! [...", no longer JSON, PayPal's generated answers break many patterns):
    then any entry located in the request refuses it."""
    header = response.headers.get("sl-violations", "")
    if not header.startswith(_TOO_MANY):
        return rejection(response)
    if '"location":["request"' in header or response.status_code >= 400:
        return f"{response.status_code}: {header[:600]}"
    return None


def cannot_answer(response: httpx.Response) -> bool:
    """Prism validated the request but could not build an answer from the schema (Stripe's
    invoice is too deep for it): the request is checked, the read stops there."""
    header = response.headers.get("sl-violations", "")
    if response.status_code != 500 or header.startswith(_TOO_MANY):
        return False
    if any(v.in_request for v in violations(response)):
        return False
    try:
        problem = response.json()
    except ValueError:
        return False
    return isinstance(problem, dict) and str(problem.get("type", "")).endswith("SCHEMA_TOO_COMPLEX")


class ExampleLinks(httpx.AsyncBaseTransport):
    """Prism replays GitHub's example `Link` header, a placeholder
    (`<https://api.github.com/resource?page=2>`); it is replaced by the link GitHub gives,
    the same request's next page, so the reader's follow-up request is the one it would
    send to GitHub and is checked like the first."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if "link" in response.headers:
            page = int(request.url.params.get("page", "1"))
            following = request.url.copy_merge_params({"page": str(page + 1)})
            response.headers["link"] = f'<{following}>; rel="next"'
        return response


async def test_stream_requests_conform_to_the_description(
    served: Served,  # noqa: F811
    pytestconfig: pytest.Config,
) -> None:
    provider, origin = served.provider, httpx.URL(served.prism.url)
    to_prism = httpx.AsyncHTTPTransport()
    prism = ExampleLinks(to_prism)
    to_simulator = provider.simulator.transport()
    undescribed = {n for (k, n) in UNDESCRIBED_STREAMS if k == provider.key}
    current = {"stream": ""}

    def route(request: httpx.Request) -> httpx.AsyncBaseTransport:
        if current["stream"] in undescribed or undescribed_reason(provider.key, request.url):
            return to_simulator
        assert (request.url.host, request.url.port) == (origin.host, origin.port), (
            f"{provider.key} sent a stream request outside its API base: {request.url}"
        )
        return prism

    recorder = RecordingTransport(route, rewrite=lambda url: through_gateway(provider.key, url))
    failures: list[str] = []
    async with to_prism, httpx.AsyncClient(transport=recorder, timeout=30) as http:
        for stream in readable(provider):
            current["stream"] = stream.name
            base = provider.spec.api_base_url if stream.name in undescribed else served.api_base_url
            cursor = _synthetic_cursor(stream)
            for run in requests_of(stream, cursor):
                recorder.call = f"{stream.name} ({run.mode})"
                try:
                    found = await read_run(provider, stream, run, http, base, PRISM_PAGES)
                except Exception as exc:  # reported with the stream and mode
                    if not cannot_answer(recorder.exchanges[-1].response):
                        failures.append(f"{recorder.call}: {type(exc).__name__}: {exc}")
                    continue
                if run.mode == "full" and cursor is None and found and stream.incremental:
                    recorder.call = f"{stream.name} (incremental)"
                    await read_run(
                        provider, stream, PageRequest(mode="incremental", cursor=found), http,
                        base, PRISM_PAGES,
                    )  # fmt: skip
    checked = [
        e
        for e in recorder.exchanges
        if e.call.split(" (")[0] not in undescribed
        and not undescribed_reason(provider.key, e.request.url)
    ]
    refused = [
        f"{e.call}: {e.request.method} {e.request.url} -> {reason}"
        for e in checked
        if not cannot_answer(e.response) and (reason := refusal(e.response))
    ]
    assert not refused, "Prism refused stream requests:\n" + "\n".join(refused)
    assert not failures, "reads failed on Prism's schema-valid answers:\n" + "\n".join(failures)
    streams = {e.call.split(" (")[0] for e in checked}
    assert streams == {s.name for s in readable(provider)} - undescribed, "every stream was read"
    counts = description_counts(pytestconfig)
    counts["stream requests validated by Prism"][provider.key] += len(checked)
    counts["stream answers Prism could not generate (request checked)"][provider.key] += sum(
        cannot_answer(e.response) for e in checked
    )
    counts["stream requests to an undescribed call (simulator)"][provider.key] += len(
        recorder.exchanges
    ) - len(checked)


@pytest.mark.parametrize(
    "key", [k for k in providers() if k in DESCRIBED and readable(providers()[k])]
)
async def test_simulator_stream_answers_conform_to_the_description(
    key: str,
    pytestconfig: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    provider = providers()[key]
    doc, api = published(key, str(tmp_path_factory.getbasetemp()))
    simulator = provider.simulator.transport()
    recorder = RecordingTransport(lambda request: simulator)
    async with httpx.AsyncClient(transport=recorder, timeout=5) as http:
        for stream in readable(provider):
            recorder.call = f"{stream.name} (full)"
            cursor = await read_run(
                provider, stream, PageRequest(mode="full"), http, provider.spec.api_base_url,
                SIMULATOR_PAGES,
            )  # fmt: skip
            for run in requests_of(stream, cursor)[1:]:
                recorder.call = f"{stream.name} ({run.mode})"
                await read_run(
                    provider, stream, run, http, provider.spec.api_base_url, SIMULATOR_PAGES
                )
    problems: list[str] = []
    validated = skipped = 0
    for exchange in recorder.exchanges:
        stream_name = exchange.call.split(" (")[0]
        if (key, stream_name) in UNDESCRIBED_STREAMS or undescribed_reason(
            key, exchange.request.url
        ):
            skipped += 1
            continue
        request = described_request(key, doc, exchange.request)
        errors = list(api.iter_response_errors(request, described_response(exchange.response)))
        if (
            len(errors) == 1
            and isinstance(errors[0], ResponseNotFound)
            and exchange.response.is_error
        ):
            skipped += 1
            continue
        validated += 1
        label = f"{exchange.call}: {request.method.upper()} {request.path}"
        problems += [f"{label} -> {exchange.response.status_code}: {_explain(e)}" for e in errors]
    assert not problems, "simulator stream answers off the description:\n" + "\n".join(problems)
    assert validated, "the stream answers are described"
    counts = description_counts(pytestconfig)
    counts["simulator stream answers validated against the description"][key] += validated
    counts["simulator stream answers not described"][key] += skipped
