"""What a consent yields beyond tokens: public facts for the integration's config.

Data first: the spec's `token_response_metadata` picks fields out of the token response; a
provider whose facts need another call names an `after_consent` hook in its own folder. The
config is shown by the API, so only short scalar values are kept, never a token.
"""

from __future__ import annotations

from typing import Any, cast

import httpx

from backend.connectors.hooks import AfterConsent, ConsentError
from backend.connectors.paths import dig
from backend.connectors.registry import Provider
from backend.connectors.spec import OAuthSpec
from backend.oauth.client import ErrorKind, TokenEndpointError, safe_code

#: Longest config value taken from a provider answer (ids and names are far shorter).
MAX_VALUE_LENGTH = 256


def _public_value(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = str(value)
    return text if text and len(text) <= MAX_VALUE_LENGTH else None


def token_metadata(oauth: OAuthSpec, token: dict[str, Any]) -> dict[str, str]:
    """The spec's token_response_metadata read out of one token response."""
    found = {
        key: _public_value(dig(token, path)) for key, path in oauth.token_response_metadata.items()
    }
    return {key: value for key, value in found.items() if value is not None}


async def consent_config(
    provider: Provider, token: dict[str, Any], http: httpx.AsyncClient, api_base: str
) -> dict[str, str]:
    """Config facts of a fresh consent: the token response's metadata, then the provider's
    `after_consent` hook, if it names one. Raises TokenEndpointError when the hook fails."""
    oauth = provider.spec.oauth
    config = token_metadata(oauth, token) if oauth is not None else {}
    hook = provider.hooks.get("after_consent")
    if hook is None:
        return config
    try:
        found = await cast(AfterConsent, hook)(token, http, api_base)
    except ConsentError as exc:
        raise TokenEndpointError(exc.kind, safe_code(exc.code), reason=exc.reason) from None
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        kind: ErrorKind = "unavailable" if status >= 500 or status == 429 else "rejected"
        raise TokenEndpointError(kind, f"after_consent_http_{status}") from None
    except httpx.HTTPError as exc:
        raise TokenEndpointError("unavailable", safe_code(type(exc).__name__)) from None
    except ValueError:
        # An answer that is not the JSON the hook expects (a gateway page): not the provider's.
        raise TokenEndpointError("unavailable", "after_consent_bad_response") from None
    for key, value in found.items():
        if (public := _public_value(value)) is not None:
            config[str(key)] = public
    return config
