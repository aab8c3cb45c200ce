"""Default field mappings for HubSpot (data only; see backend/mappings/defaults.py).

Event rules read the normalized `data` (webhook.py): an event arrives alone at the app URL
but inside its batch's array at an integration's own URL, and `data` reads the same either
way. Stream rules read CRM objects as the v3 objects API returns them (`properties` holds
every value as text).
"""

DOCUMENT = "data"

_WHEN = [{"op": "parse_datetime", "format": "iso8601"}]
_UPDATED = {"target": "updated_at", "source": "updatedAt", "transforms": _WHEN}

MAPPINGS = {
    "*": [
        {"target": "portal", "source": "portal_id"},
        {"target": "object_type", "source": "object_type"},
        {"target": "object_id", "source": "object_id"},
        {"target": "property", "source": "property_name"},
        {"target": "value", "source": "property_value"},
        {"target": "change_source", "source": "change_source"},
    ],
    "contacts": [
        {"target": "id", "source": "id"},
        {"target": "email", "source": "properties.email"},
        {"target": "first_name", "source": "properties.firstname"},
        {"target": "last_name", "source": "properties.lastname"},
        _UPDATED,
    ],
    "companies": [
        {"target": "id", "source": "id"},
        {"target": "name", "source": "properties.name"},
        {"target": "domain", "source": "properties.domain"},
        _UPDATED,
    ],
    "deals": [
        {"target": "id", "source": "id"},
        {"target": "name", "source": "properties.dealname"},
        {"target": "stage", "source": "properties.dealstage"},
        {
            "target": "amount",
            "source": "properties.amount",
            "transforms": [{"op": "to_float"}],
        },
        {"target": "close_date", "source": "properties.closedate", "transforms": _WHEN},
        _UPDATED,
    ],
}
