"""What code a provider may add beyond its spec: an adapter and a webhook handler.

`Adapter` talks to the provider's API with one integration's credentials (health checks
now; sync streams and outbound actions later). `WebhookHandler` verifies and interprets
deliveries. Both know nothing of our tables or routes: they receive plain values and
return plain values, so the same provider code serves the api, the worker and tests.
"""

from __future__ import annotations

import abc
import datetime as dt
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from backend.connectors.classify import classify_response, json_body
from backend.connectors.paths import dig, dig_str
from backend.connectors.spec import ConnectorSpec, ErrorKind, HealthCheck
from backend.lib.http import refused_by_guard
from backend.lib.observers import ProviderCall, report_call
from backend.lib.vocab import FailureKind, HealthStatus

# The error table's kinds under the names callers (health status, retries) already use.
_FAILURE_KIND: dict[ErrorKind, FailureKind] = {
    "auth": FailureKind.AUTH_FAILED,
    "rate_limit": FailureKind.RATE_LIMITED,
    "transient": FailureKind.PROVIDER_DOWN,
    "permanent": FailureKind.BAD_REQUEST,
}
# `{credentials.NAME}` / `{config.NAME}` in a health check's path.
_PLACEHOLDER = re.compile(r"\{(credentials|config)\.([A-Za-z0-9_]+)\}")


class ProviderError(Exception):
    """A classified failure of a provider call. `message` never carries a secret."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after


def json_object(response: httpx.Response) -> dict[str, Any]:
    """A successful answer's JSON object; a success without one breaks the documented shape,
    so it fails like a provider outage rather than as a bug of ours."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ProviderError(
            FailureKind.PROVIDER_DOWN,
            "the provider's answer was not the documented JSON object",
            status_code=response.status_code,
        )
    return body


@dataclass(frozen=True, slots=True)
class HealthResult:
    ok: bool
    status: HealthStatus
    reason: str
    retry_after: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # The call failed on the way (5xx, timeout, network), so asking again may succeed; a
    # well-formed answer that did not confirm the credentials is not transient.
    transient: bool = False

    @classmethod
    def from_error(cls, error: ProviderError) -> HealthResult:
        transient = error.kind in (FailureKind.PROVIDER_DOWN, FailureKind.NETWORK)
        return cls(
            False, HealthStatus(error.kind), error.message, error.retry_after, transient=transient
        )


@dataclass(frozen=True, slots=True)
class WebhookRegistration:
    """How the provider knows the webhook we registered, kept to update and remove it."""

    provider_id: str
    description: str
    # A signing secret the provider issued for it (Stripe's whsec_), to be stored sealed.
    signing_secret: str | None = field(default=None, repr=False)
    # When the provider drops it unless renewed (Google watches and channels); None: never.
    expires_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class OperatorApp:
    """The operator's own app for a connector, from the environment, never from a tenant.

    Its credentials authenticate calls as the app (GitHub deletes a grant with the app's
    client id and secret), so they may only travel to `api_base_url` and `revoke_url`,
    the operator's configured endpoints, never to a tenant's API base override.
    """

    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    revoke_url: str = ""
    api_base_url: str = ""


@dataclass(slots=True)
class AdapterContext:
    """Everything an adapter may use: decrypted credentials stay inside this process.

    `config` is the tenant's (tenant-writable); `api_base_url` may be a tenant's override
    (allow-listed by the operator); `operator` is the operator's, kept apart by type.
    """

    credentials: dict[str, Any]
    config: dict[str, Any]
    api_base_url: str
    http: httpx.AsyncClient
    operator: OperatorApp = field(default_factory=OperatorApp)
    # Whose calls these are, for the call counters (None outside an integration).
    tenant_id: uuid.UUID | None = None
    integration_id: uuid.UUID | None = None


class Adapter(abc.ABC):
    """Base of every provider adapter: the spec's data drives health, errors and waits;
    subclasses add only what data cannot say (how to authenticate, webhook registration,
    revocation)."""

    spec: ClassVar[ConnectorSpec]

    def __init__(self, ctx: AdapterContext) -> None:
        self.ctx = ctx

    # -- health -----------------------------------------------------------------------
    async def check_health(self) -> HealthResult:
        """The spec's health call: healthy when it succeeds and shows what success looks
        like; the account it names goes into `details["account"]`."""
        check = self.spec.health
        if check is None:
            return HealthResult(True, HealthStatus.HEALTHY, "no provider API to check")
        try:
            response = await self.call(
                check.method, self.health_path(), params=dict(check.params) or None
            )
        except ProviderError as exc:
            return HealthResult.from_error(exc)
        body = json_body(response)
        if check.success_path and not _shows_success(body, check):
            return HealthResult(
                False,
                HealthStatus.PROVIDER_DOWN,
                "the provider's answer did not confirm the credentials",
            )
        details: dict[str, Any] = {}
        source = self.ctx.config if check.account_from == "config" else body
        account_id = dig_str(source, check.account_id_path) if check.account_id_path else ""
        if account_id:
            name = dig(source, check.account_name_path) if check.account_name_path else None
            details["account"] = {"id": account_id, "name": name if isinstance(name, str) else ""}
        return HealthResult(
            True, HealthStatus.HEALTHY, "the provider accepted the credentials", None, details
        )

    def health_path(self) -> str:
        """The health check's path with its placeholders filled in; a value that is missing
        or breaks its credential field's pattern is `misconfigured` (never sent)."""
        if self.spec.health is None:
            raise ProviderError(FailureKind.MISCONFIGURED, "this connector has no health check")
        return self.fill_path(self.spec.health.path)

    def fill_path(self, template: str) -> str:
        """`template` with its `{credentials.NAME}`/`{config.NAME}` placeholders filled in,
        each checked as in `health_path` (actions address the integration's own account)."""
        return _PLACEHOLDER.sub(self._placeholder, template)

    def _placeholder(self, match: re.Match[str]) -> str:
        source, name = match.group(1), match.group(2)
        values = self.ctx.credentials if source == "credentials" else self.ctx.config
        value = values.get(name)
        field_ = next((f for f in self.spec.credential_fields if f.name == name), None)
        label = field_.label if field_ is not None and source == "credentials" else name
        if not isinstance(value, str | int) or not str(value):
            raise ProviderError(FailureKind.MISCONFIGURED, f"the {label} is not set")
        if field_ is not None and field_.pattern and not re.fullmatch(field_.pattern, str(value)):
            raise ProviderError(
                FailureKind.MISCONFIGURED, f"the {label} does not have the expected format"
            )
        return quote(str(value), safe="")

    # -- what subclasses may change ------------------------------------------------------
    def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate a call; default: OAuth bearer access token."""
        token = self.ctx.credentials.get("access_token", "")
        return {"Authorization": f"Bearer {token}"}

    def classify(self, response: httpx.Response) -> ProviderError | None:
        """The spec's error table, then the default one; None when the call succeeded."""
        failure = classify_response(self.spec, response, self._secrets())
        if failure is None:
            return None
        return ProviderError(
            _FAILURE_KIND[failure.kind],
            failure.message,
            status_code=response.status_code,
            retry_after=failure.retry_after,
        )

    def _secrets(self) -> list[str]:
        values = [v for v in self.ctx.credentials.values() if isinstance(v, str)]
        return [*values, self.ctx.operator.client_secret]

    async def revoke(self) -> bool:
        """Revoke the credentials at the provider; False when it offers no revocation."""
        return False

    async def register_webhook(
        self, url: str, signing_secret: str | None, existing_id: str | None
    ) -> WebhookRegistration:
        """Point the provider's webhook at `url` (create it, or update `existing_id`).

        Only connectors whose spec says `auto_register` override this; the rest are set up
        by hand from the spec's instructions.
        """
        raise ProviderError(
            FailureKind.MISCONFIGURED, "this provider's webhooks are set up by hand"
        )

    async def unregister_webhook(self, provider_id: str) -> None:
        """Remove a webhook registered earlier; one already gone is not an error."""
        raise ProviderError(
            FailureKind.MISCONFIGURED, "this provider's webhooks are set up by hand"
        )

    # -- shared plumbing --------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.ctx.api_base_url.rstrip("/") + "/" + path.lstrip("/")

    def operator_url(self, path: str) -> str:
        """A URL on the operator's API base: the only place app credentials may go."""
        base = self.ctx.operator.api_base_url or self.spec.api_base_url
        return base.rstrip("/") + "/" + path.lstrip("/")

    async def call(
        self, method: str, path: str, *, as_operator: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """Call the provider API, raising a classified `ProviderError` on failure.

        `as_operator` sends the call to the operator's API base instead of the
        integration's, for calls authenticated with the operator's app credentials.
        """
        started = time.perf_counter()
        status_code, failure = 0, ""
        try:
            response = await self._send(method, path, as_operator, **kwargs)
            status_code = response.status_code
            return response
        except ProviderError as exc:
            status_code, failure = exc.status_code or 0, exc.kind.value
            raise
        finally:
            report_call(
                ProviderCall(
                    self.spec.key,
                    self.ctx.tenant_id,
                    self.ctx.integration_id,
                    status_code,
                    failure,
                    (time.perf_counter() - started) * 1000,
                )
            )

    async def _send(
        self, method: str, path: str, as_operator: bool, **kwargs: Any
    ) -> httpx.Response:
        headers = {**self.spec.request_headers, **self.auth_headers(), **kwargs.pop("headers", {})}
        url = self.operator_url(path) if as_operator else self.url(path)
        try:
            response = await self.ctx.http.request(method, url, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderError(FailureKind.NETWORK, "the provider did not answer in time") from exc
        except httpx.HTTPError as exc:
            if refused_by_guard(exc):
                raise ProviderError(
                    FailureKind.MISCONFIGURED,
                    "the provider's host resolves to a private, loopback or metadata address",
                ) from None
            raise ProviderError(
                FailureKind.NETWORK, f"could not reach the provider ({type(exc).__name__})"
            ) from exc
        error = self.classify(response)
        if error is not None:
            raise error
        return response

    async def call_if_exists(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        """`call`, but None when the provider answers 404 (the object is gone)."""
        try:
            return await self.call(method, path, **kwargs)
        except ProviderError as exc:
            if exc.status_code == 404:
                return None
            raise


def _shows_success(body: Any, check: HealthCheck) -> bool:
    """The value at `success_path` is present, and equal to `success_equals` when set."""
    if check.success_equals:
        return dig_str(body, check.success_path) == check.success_equals
    return dig(body, check.success_path) is not None


# -- webhooks ---------------------------------------------------------------------------


class WebhookVerificationError(Exception):
    """The delivery failed verification; `reason` is safe to log and return (no secrets)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    method: str
    # The public URL the provider called, rebuilt from PUBLIC_BASE_URL (Twilio signs it).
    url: str
    headers: dict[str, str]  # lower-cased names
    query: dict[str, str]
    body: bytes
    received_at: float  # unix seconds


@dataclass(frozen=True, slots=True)
class WebhookSecrets:
    """Secrets verification may use: signing secrets (current first, then any still in
    their rotation overlap), the integration's credentials and config."""

    signing_secrets: tuple[str, ...]
    credentials: dict[str, Any]
    config: dict[str, Any]
    # A test-mode integration: its provider is the simulator, which is then the trust root
    # of schemes signed by the provider's own keys (Gmail's OIDC token, PayPal's cert).
    test_mode: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """A response the provider expects verbatim (a handshake or challenge)."""

    status: int
    body: bytes
    content_type: str = "text/plain"


@dataclass(frozen=True, slots=True)
class VerifiedDelivery:
    """A delivery that passed verification.

    `event_id` None means the provider gives none (ingest falls back to a body hash).
    `reply` set and `store` False means a handshake to answer and not keep.
    `signed_digest`: set when `event_id` comes from a header the signature does not cover
    and nothing signed is unique per delivery (no timestamp): a SHA-256 of what the
    signature covers, on which ingest dedupes as well, so a captured delivery resent with
    a fresh id header is a duplicate, not a new event.
    """

    event_id: str | None
    event_type: str
    store: bool = True
    reply: Reply | None = None
    signed_digest: bytes | None = None


@dataclass(frozen=True, slots=True)
class DeliveryPart:
    """One event of a verified delivery, as it is stored and routed.

    `body` is the exact bytes kept for it (the whole delivery, or one element of a batch);
    `document` is the decoded JSON the spec's `account_id_source` path is read from.
    """

    body: bytes
    event_id: str | None
    event_type: str
    document: Any = None


@dataclass(frozen=True, slots=True)
class NormalizedEvent:
    """The provider-specific part of a CloudEvents envelope."""

    type: str
    subject: str | None
    time: dt.datetime | None
    data: dict[str, Any]


class WebhookHandler(abc.ABC):
    """Verify and interpret one provider's deliveries."""

    #: Header names (lower case) worth storing beside the raw body.
    stored_headers: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        """Check the signature over the raw bytes; raise WebhookVerificationError to reject."""

    async def handshake(self, request: WebhookRequest, secrets: WebhookSecrets) -> Reply:
        """Answer a GET subscription handshake (Meta); providers without one answer 405."""
        raise WebhookVerificationError("this provider does not perform a GET handshake")

    def split(
        self, request: WebhookRequest, delivery: VerifiedDelivery
    ) -> list[DeliveryPart] | None:
        """The events of a verified delivery where the generic reading cannot find them (events
        nested in an envelope, an account inside encoded data); None, the default: a JSON
        array is a batch of events, anything else one event (backend/webhooks/routing.py)."""
        return None

    @abc.abstractmethod
    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        """Map a stored raw delivery to a normalized event; unknown types stay generic."""
