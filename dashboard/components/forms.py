"""Form pieces every page's forms share: a labelled field and the api's words under it."""

from __future__ import annotations

from typing import Any

import reflex as rx


def labelled(label: str, *children: rx.Component) -> rx.Component:
    """A bold label above its input (and the input's error, when given)."""
    return rx.vstack(rx.text(label, size="2", weight="bold"), *children, spacing="1")


def field_error(
    errors: rx.Var[dict[str, str]], name: rx.Var[str] | str, id_prefix: str, **props: Any
) -> rx.Component:
    """What was wrong with field `name` (a key of `errors`), shown under it when anything
    was; its id is `id_prefix` + the name, which the browser tests look for."""
    element_id = id_prefix + name if isinstance(name, str) else id_prefix + name.to(str)
    return rx.cond(
        errors.contains(name),
        rx.text(errors[name], color_scheme="red", size="1", id=element_id, **props),
    )
