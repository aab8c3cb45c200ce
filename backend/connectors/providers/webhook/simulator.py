"""Generic webhook: no provider API; the simulator only answers forced failures and 404."""

from backend.connectors.providers.webhook.spec import SPEC
from backend.connectors.simulator import ProviderSimulator, SimRequest, SimResponse, json_response


def _rate_limited(request: SimRequest, seconds: int) -> SimResponse:
    return json_response(429, {"error": "rate_limited"}, {"Retry-After": str(seconds)})


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(),
    credential=lambda request: True,
    unauthorized=lambda request: json_response(401, {"error": "unauthorized"}),
    rate_limited=_rate_limited,
)
