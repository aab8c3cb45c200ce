"""The public OAuth callback: providers send the browser here with `code` and `state`.

No API key (the state names the tenant and integration). A bad state answers a problem
(400) and changes nothing; everything else ends in a 303 back to the dashboard (or the
allow-listed return URL chosen when the flow began) with `oauth=connected` or
`oauth=error&error=<code>&reason=<words a person understands>`.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Redirect

from backend.lib.errors import Problem
from backend.oauth.services import CALLBACK_PATH, OAuthService

_SINGLE = ("state", "code", "error")
# The URL carries a one-time code: keep it out of caches and Referer headers.
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@get(
    CALLBACK_PATH,
    operation_id="complete_oauth_authorization",
    summary="OAuth 2.0 redirect target (public; the browser arrives from the provider)",
    description="Not for API clients: the provider sends the browser here. A state that was "
    "not issued here, was used, or expired answers 400 `oauth-state` and changes nothing.",
    tags=["oauth"],
    security=[],
    status_code=303,
)
async def oauth_callback(
    request: Request[Any, Any, Any],
    oauth: OAuthService,
    # Declared for the document; the flow reads the whole query (providers add their own).
    issued_state: str | None = Parameter(
        query="state", default=None, description="The state this API issued."
    ),
    code: str | None = Parameter(default=None, description="The authorization code."),
    error: str | None = Parameter(default=None, description="The provider's OAuth error."),
    error_description: str | None = None,
) -> Redirect:
    query = request.query_params
    for name in _SINGLE:
        if len(query.getall(name, [])) > 1:
            raise Problem(
                400,
                f"The authorization response repeats `{name}`.",
                kind="oauth-state",
                title="Invalid OAuth state",
            )
    params = {k: str(v) for k, v in query.items()}
    url = await oauth.complete(params)
    return Redirect(path=url, status_code=303, headers=_HEADERS)
