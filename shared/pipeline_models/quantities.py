"""Syntax of Kubernetes resource quantities (``500m``, ``1.5``, ``256Mi``, ``1e3``).

Tenants may ask for CPU and memory requests; this module only checks the syntax the apiserver
accepts for a non-negative quantity, so a typo fails at creation. Bounds (what a tenant may ask
for) are the events API's settings, and are enforced there.
"""

import re

# Kubernetes' grammar: <number><suffix>, suffix binary (Ki..Ei), decimal (n,u,m,k,M,G,T,P,E) or
# a decimal exponent (e3, E-2). A leading '+' is legal but pointless; '-' makes no sense here.
_QUANTITY = re.compile(
    r"\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?"
)


def quantity_problem(text: str) -> str | None:
    """Say why ``text`` is not a non-negative Kubernetes quantity, or None when it is one."""
    if _QUANTITY.fullmatch(text) is None:
        return (
            f"{text!r} is not a Kubernetes quantity; write e.g. '250m' or '0.5' for CPU "
            "and '256Mi' or '1Gi' for memory"
        )
    return None
