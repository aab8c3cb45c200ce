"""Default field mappings for Stripe (data only; see backend/mappings/defaults.py).

Event rules read the Event object as Stripe sends it (`data.object` is the resource);
stream rules read the resources themselves. Amounts are in major units by the currency's
ISO 4217 exponent (Stripe sends minor units).
"""


def _money(amount: str, prefix: str) -> list[dict[str, object]]:
    return [
        {
            "target": "amount",
            "source": f"{prefix}{amount}",
            "transforms": [{"op": "minor_to_major", "currency": f"{prefix}currency"}],
        },
        {"target": "currency", "source": f"{prefix}currency", "transforms": [{"op": "upper"}]},
        {"target": "customer", "source": f"{prefix}customer"},
    ]


def _unix(target: str, source: str) -> dict[str, object]:
    return {
        "target": target,
        "source": source,
        "transforms": [{"op": "parse_datetime", "format": "unix_s"}],
    }


def _charge(prefix: str) -> list[dict[str, object]]:
    return [
        *_money("amount", prefix),
        _unix("paid_at", f"{prefix}created"),
        {"target": "status", "source": f"{prefix}status"},
    ]


def _invoice(prefix: str) -> list[dict[str, object]]:
    return [
        *_money("amount_paid", prefix),
        _unix("paid_at", f"{prefix}status_transitions.paid_at"),
        {"target": "status", "source": f"{prefix}status"},
        {"target": "number", "source": f"{prefix}number"},
    ]


_SUBSCRIPTION = [
    {"target": "customer", "source": "data.object.customer"},
    {"target": "status", "source": "data.object.status"},
    _unix("current_period_end", "data.object.current_period_end"),
    {"target": "cancel_at_period_end", "source": "data.object.cancel_at_period_end"},
    {"target": "prices", "source": "data.object.items.data[*].price.id"},
]

MAPPINGS = {
    **{
        f"charge.{kind}": _charge("data.object.")
        for kind in ("succeeded", "captured", "refunded", "failed")
    },
    "payment_intent.succeeded": [
        *_money("amount_received", "data.object."),
        _unix("paid_at", "data.object.created"),
    ],
    **{
        f"invoice.{kind}": _invoice("data.object.")
        for kind in ("paid", "payment_failed", "finalized")
    },
    **{
        f"customer.subscription.{kind}": _SUBSCRIPTION for kind in ("created", "updated", "deleted")
    },
    "charges": _charge(""),
    "invoices": _invoice(""),
    "customers": [
        {"target": "email", "source": "email"},
        {"target": "name", "source": "name"},
        _unix("created_at", "created"),
    ],
}
