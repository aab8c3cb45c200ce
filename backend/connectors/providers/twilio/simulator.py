"""Twilio's REST API as documented: Accounts/{Sid}.json, and Twilio's {code, message} errors."""

from backend.connectors.providers.twilio.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
)

_SID, _TOKEN = (field.pattern for field in SPEC.credential_fields)


def _error(status: int, code: int, message: str) -> SimResponse:
    return json_response(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def credential_ok(request: SimRequest) -> bool:
    basic = request.basic()
    return basic is not None and looks_valid(basic[0], _SID) and looks_valid(basic[1], _TOKEN)


def account(request: SimRequest) -> SimResponse:
    sid = request.path.rsplit("/", 1)[-1].removesuffix(".json")
    basic = request.basic()
    if basic is None or basic[0] != sid:
        return _error(
            404, 20404, f"The requested resource /2010-04-01/Accounts/{sid}.json was not found"
        )
    uri = f"/2010-04-01/Accounts/{sid}"
    return json_response(
        200,
        {
            "auth_token": "[Redacted]",
            "date_created": "Thu, 30 Jul 2015 20:00:00 +0000",
            "date_updated": "Thu, 30 Jul 2015 20:00:00 +0000",
            "friendly_name": "Switchboard Test",
            "owner_account_sid": sid,
            "sid": sid,
            "status": "active",
            "subresource_uris": {
                "calls": f"{uri}/Calls.json",
                "messages": f"{uri}/Messages.json",
                "incoming_phone_numbers": f"{uri}/IncomingPhoneNumbers.json",
            },
            "type": "Full",
            "uri": f"{uri}.json",
        },
    )


def unauthorized(request: SimRequest) -> SimResponse:
    response = _error(401, 20003, "Authenticate")
    return SimResponse(
        response.status,
        response.body,
        {**response.headers, "WWW-Authenticate": 'Basic realm="Twilio API"'},
    )


def rate_limited(request: SimRequest, seconds: int) -> SimResponse:
    response = _error(429, 20429, "Too Many Requests")
    return SimResponse(429, response.body, {**response.headers, "Retry-After": str(seconds)})


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(Route("GET", r"/2010-04-01/Accounts/[^/]+\.json", account),),
    credential=credential_ok,
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=lambda request: _error(500, 20500, "Internal Server Error"),
    not_found=lambda request: _error(404, 20404, "The requested resource was not found"),
    sample_credentials={field.name: field.example for field in SPEC.credential_fields},
)
