"""Google Calendar's API as documented: calendarList.list, plus Google's token revocation."""

from backend.connectors.providers import _google
from backend.connectors.providers.google_calendar.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
)

_ENTRY = {
    "kind": "calendar#calendarListEntry",
    "etag": '"1712345678901000"',
    "id": "test.user@example.com",
    "summary": "test.user@example.com",
    "timeZone": "Europe/Berlin",
    "colorId": "14",
    "backgroundColor": "#9fe1e7",
    "foregroundColor": "#000000",
    "selected": True,
    "accessRole": "owner",
    "defaultReminders": [{"method": "popup", "minutes": 10}],
    "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
    "primary": True,
}


def calendar_list(request: SimRequest) -> SimResponse:
    body: dict[str, object] = {
        "kind": "calendar#calendarList",
        "etag": '"p33k9lf3vq2ngg0o"',
        "items": [_ENTRY],
    }
    if request.query.get("maxResults") == "1":
        body["nextPageToken"] = (
            "EjYKKzBkOGl0ZHVxZ2VqaG5mMm5yZHRxbmFkNjBuQGdyb3VwLmNhbGVuZGFyLmdvb2dsZS5jb20YAQ=="
        )
    else:
        body["nextSyncToken"] = "CPDAlvWDx70CEPDAlvWDx70CGAU="
    return json_response(200, body)


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("GET", r"/users/me/calendarList", calendar_list),
        Route("POST", r"/revoke", _google.revoke, authenticated=False),
    ),
    credential=_google.bearer_ok,
    unauthorized=_google.unauthorized,
    rate_limited=lambda request, seconds: _google.rate_limited(
        "calendar-json.googleapis.com", seconds
    ),
    server_error=_google.server_error,
    sample_credentials=_google.SAMPLE_CREDENTIALS,
)
