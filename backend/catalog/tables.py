"""The connector catalog, synced from the code's specs by `migrate`."""

from piccolo.columns import JSONB, Boolean, Text, Timestamptz, Varchar
from piccolo.table import Table


class Connector(Table):
    key = Varchar(length=64, primary_key=True)
    name = Varchar(length=200)
    category = Varchar(length=64)
    auth_type = Varchar(length=16)
    enabled = Boolean(default=True)
    configured = Boolean(default=False)
    configured_reason = Text(default="")
    spec = JSONB(default="{}")
    updated_at = Timestamptz()
