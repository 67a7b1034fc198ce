"""Deployment values written into bank text as placeholders, e.g. "Call {emergency_number} now."

A bank is data shared by every hospital that runs it, but some words belong to the deployment: the
emergency telephone number differs by country. Bank text names them as `{placeholder}`; the loader
refuses unknown names and stray braces, the readability gates measure the text with a typical value in
place, and pages show the deployment's value (`quiz.create_app` fills every string a template prints, so
no page can forget). Fingerprints are computed on the text with its placeholders, so every deployment
stores the same question versions.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

# name -> (the config key that holds the deployment's value, a typical value for readability checks)
KNOWN: dict[str, tuple[str, str]] = {
    "emergency_number": ("EMERGENCY_NUMBER", "911"),
}


def problems(text: str) -> list[str]:
    """What is wrong with the placeholders in `text`: unknown names and braces that are not one."""
    found = []
    for match in PLACEHOLDER.finditer(text):
        if match.group(1) not in KNOWN:
            found.append(f"unknown placeholder {{{match.group(1)}}} (known: "
                         + ", ".join(f"{{{name}}}" for name in KNOWN) + ")")
    if "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text):
        found.append("a '{' or '}' that is not part of a {placeholder}")
    return found


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each known placeholder replaced by its value in `values` (by placeholder name)."""
    if "{" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def typical_values() -> dict[str, str]:
    return {name: typical for name, (_, typical) in KNOWN.items()}


def values_from_config(config: Mapping) -> dict[str, str]:
    return {name: str(config.get(key) or typical) for name, (key, typical) in KNOWN.items()}
