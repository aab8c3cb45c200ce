"""The closed vocabularies of the product: integration, health, event and webhook-registration
statuses, and the kinds of provider failure.

One definition each, shared by the tables (Piccolo `choices=`), the wire types (so the OpenAPI
document lists the values) and the services. `StrEnum`, so a member is its text: it is stored,
sent and compared as the plain string. The dashboard imports nothing from `backend/`; it
mirrors these as `Literal` types in dashboard/client.py, and tests/dashboard/test_vocab.py
checks that the two agree.
"""

from __future__ import annotations

from enum import StrEnum


class IntegrationStatus(StrEnum):
    """Where an integration stands; `needs_reauth`: only a person can reconnect it."""

    # pending until OAuth consent completes; error: the last health check failed for another
    # reason than the grant; revoked is for good.
    PENDING = "pending"
    CONNECTED = "connected"
    NEEDS_REAUTH = "needs_reauth"
    ERROR = "error"
    REVOKED = "revoked"


class FailureKind(StrEnum):
    """Why a call to a provider failed."""

    AUTH_FAILED = "auth_failed"
    RATE_LIMITED = "rate_limited"
    PROVIDER_DOWN = "provider_down"
    NETWORK = "network"
    BAD_REQUEST = "bad_request"
    MISCONFIGURED = "misconfigured"


class HealthStatus(StrEnum):
    """The outcome of an integration's last health check (a failure names its kind)."""

    # unknown before the first check; every FailureKind value, since a failed check reports
    # why; revoked once the integration is.
    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    AUTH_FAILED = FailureKind.AUTH_FAILED.value
    RATE_LIMITED = FailureKind.RATE_LIMITED.value
    PROVIDER_DOWN = FailureKind.PROVIDER_DOWN.value
    NETWORK = FailureKind.NETWORK.value
    BAD_REQUEST = FailureKind.BAD_REQUEST.value
    MISCONFIGURED = FailureKind.MISCONFIGURED.value
    REVOKED = "revoked"


class EventStatus(StrEnum):
    """Where a stored webhook event is in processing (`dead`: out of attempts)."""

    # received: stored and acknowledged; processed: normalized; failed: normalization failed
    # and will be retried.
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    DEAD = "dead"


class WebhookRegistrationStatus(StrEnum):
    """The last outcome of registering a webhook at the provider (`manual`: set up by hand)."""

    REGISTERED = "registered"
    FAILED = "failed"
    MANUAL = "manual"
    REMOVED = "removed"
