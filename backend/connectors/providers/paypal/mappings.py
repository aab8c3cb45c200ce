"""Default field mappings for PayPal (data only; see backend/mappings/defaults.py).

Event rules read the webhook event JSON (`resource` is the capture or order); stream rules
read the Reporting API's transaction details and the Disputes API's disputes. PayPal sends
amounts as decimal text in major units.
"""

_WHEN = [{"op": "parse_datetime", "format": "iso8601"}]
_NUMBER = [{"op": "to_float"}]

MAPPINGS = {
    "PAYMENT.CAPTURE.COMPLETED": [
        {"target": "capture_id", "source": "resource.id"},
        {"target": "amount", "source": "resource.amount.value", "transforms": _NUMBER},
        {"target": "currency", "source": "resource.amount.currency_code"},
        {"target": "status", "source": "resource.status"},
        {"target": "order_id", "source": "resource.supplementary_data.related_ids.order_id"},
        {"target": "captured_at", "source": "resource.create_time", "transforms": _WHEN},
    ],
    "CHECKOUT.ORDER.APPROVED": [
        {"target": "order_id", "source": "resource.id"},
        {
            "target": "amount",
            "source": "resource.purchase_units[0].amount.value",
            "transforms": _NUMBER,
        },
        {"target": "currency", "source": "resource.purchase_units[0].amount.currency_code"},
        {"target": "payer_email", "source": "resource.payer.email_address"},
        {"target": "status", "source": "resource.status"},
    ],
    "transactions": [
        {"target": "id", "source": "transaction_info.transaction_id"},
        {
            "target": "amount",
            "source": "transaction_info.transaction_amount.value",
            "transforms": _NUMBER,
        },
        {"target": "currency", "source": "transaction_info.transaction_amount.currency_code"},
        {
            "target": "at",
            "source": "transaction_info.transaction_initiation_date",
            "transforms": _WHEN,
        },
    ],
}
