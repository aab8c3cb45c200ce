"""Default field mappings for Twilio (data only; see backend/mappings/defaults.py).

Twilio posts forms, so event rules read the normalized data; stream rules read the REST
API's Message and Call resources (dates in RFC 2822).
"""

_RFC2822 = [{"op": "parse_datetime", "format": "%a, %d %b %Y %H:%M:%S %z"}]
_INT = [{"op": "to_int"}]

MAPPINGS = {
    "sms.inbound": [
        {"target": "message_sid", "source": "message_sid"},
        {"target": "from", "source": "from"},
        {"target": "to", "source": "to"},
        {"target": "body", "source": "body"},
        {"target": "media_count", "source": "num_media", "transforms": _INT},
    ],
    "sms.status": [
        {"target": "message_sid", "source": "message_sid"},
        {"target": "status", "source": "status"},
        {"target": "error_code", "source": "error_code", "transforms": _INT},
    ],
    "call.inbound": [
        {"target": "call_sid", "source": "call_sid"},
        {"target": "from", "source": "from"},
        {"target": "to", "source": "to"},
    ],
    "call.status": [
        {"target": "call_sid", "source": "call_sid"},
        {"target": "status", "source": "status"},
        {"target": "duration_s", "source": "duration", "transforms": _INT},
    ],
    "messages": [
        {"target": "sid", "source": "sid"},
        {"target": "from", "source": "from"},
        {"target": "to", "source": "to"},
        {"target": "body", "source": "body"},
        {"target": "status", "source": "status"},
        {"target": "sent_at", "source": "date_sent", "transforms": _RFC2822},
    ],
    "calls": [
        {"target": "sid", "source": "sid"},
        {"target": "from", "source": "from"},
        {"target": "to", "source": "to"},
        {"target": "status", "source": "status"},
        {"target": "duration_s", "source": "duration", "transforms": _INT},
        {"target": "started_at", "source": "start_time", "transforms": _RFC2822},
    ],
}
