"""API keys and tokens by the prefixes their issuers give them, for core.redact.

A short generic prefix alone is not enough: `pk_column_index` and `hf_hub_download` are
identifiers, not keys. Issued keys are long random strings, so after those prefixes the key
must hold a digit, or be long (a random 24-character base62 tail holds no digit about 1.5%
of the time).
"""

from __future__ import annotations

import re

_PREFIXED = (
    r"github_pat_|gh[pousr]_|glpat-|gl(?:dt|ptt|rt|cbt)-|hf_|"  # GitHub, GitLab, Hugging Face
    r"sk-ant-(?:api|admin)\d\d-|sk-proj-|sk-svcacct-|sk-|"  # Anthropic, OpenAI
    r"(?:sk|rk|pk)_(?:live|test)_|whsec_|sk_|rk_|pk_|"  # Stripe (and look-alikes)
    r"xox[abeoprs]-|xapp-|"  # Slack
    r"npm_|pypi-|dop_v1_|doo_v1_|shp(?:at|ss|ca|pa)_|"  # npm, PyPI, DigitalOcean, Shopify
    r"phc_|phx_|utk_|whs_|lin_api_|sq0atp-|sq0csp-|"  # PostHog, usertrail, Linear, Square
    r"glsa_|figd_|dp\.pt\.|xkeysib-"  # Grafana, Figma, Doppler, Brevo
)
API_KEY = re.compile(
    rf"(?<![\w-])(?:{_PREFIXED})[A-Za-z0-9_.=-]{{12,}}"
    r"|(?<![\w-])AIza[0-9A-Za-z_-]{35}"  # Google
    r"|\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b"  # AWS access key ids
    r"|\bSG\.[\w-]{16,}\.[\w-]{16,}"  # SendGrid
)
_LONG = 32


# Short prefixes that identifiers share (pk_column_index, hf_hub_download, npm_config_...).
_AMBIGUOUS = ("sk_", "rk_", "pk_", "hf_", "npm_")


def mask_key(match: re.Match[str]) -> str:
    """`[token]` for a key; an identifier that merely starts like one is left alone."""
    text = match.group(0)
    if not text.startswith(_AMBIGUOUS):
        return "[token]"
    looks_random = any(c.isdigit() for c in text) or len(text) >= _LONG
    return "[token]" if looks_random else text
