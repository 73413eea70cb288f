# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What may be shown of a result and of bad input: no secret, and one sentence.

A result that carries a secret is censored by Ansible as a whole, diff included; the
action plugin shows what this module lets through instead (IDs, client ID, expiry, the
diff). Only the keys named here pass, and every secret value of the result is scrubbed
from them as well, so a secret placed anywhere by mistake still does not get out.
"""

from __future__ import annotations

import difflib
import json

# Result keys that carry a secret: a result holding any of them is censored in output.
SECRET_RESULT_KEYS = ("client_secret", "access_token", "dpop_key")
# Result keys shown for a censored result; none of them holds a secret by design.
PUBLIC_RESULT_KEYS = ("changed", "reason", "rotated", "credential", "client_id", "revoked_ids", "kept_ids",
                      "kept_reasons", "stored", "server_url", "token_type", "expires_in", "expires_at", "identity")
REDACTED = "<redacted>"
# Shorter strings inside a secret value are labels ("OKP" of a JWK), not secrets.
MIN_SECRET_LENGTH = 8


def secret_values(result):
    """Every secret-sized string inside the secret keys of ``result`` (a DPoP key is a dict of them)."""
    found = []

    def walk(value):
        if isinstance(value, str):
            if len(value) >= MIN_SECRET_LENGTH:
                found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    for key in SECRET_RESULT_KEYS:
        walk(result.get(key))
    return sorted(set(found), key=len, reverse=True)  # the longest first: a secret may contain another


def scrub(value, secrets):
    """``value`` with every occurrence of each secret replaced, at any depth."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {k: scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, secrets) for v in value]
    return value


def public_summary(result):
    """The secret-free part of a result: what was done, to what (IDs, client ID, expiry)."""
    secrets = secret_values(result)
    return scrub({k: result[k] for k in PUBLIC_RESULT_KEYS if k in result}, secrets)


def diff_text(result):
    """The result's ``diff`` ({before, after}) as a unified diff of sorted JSON, secrets scrubbed; "" if none."""
    diff = result.get("diff")
    if not isinstance(diff, dict) or "before" not in diff or "after" not in diff:
        return ""
    secrets = secret_values(result)

    def lines(side):
        value = scrub(diff.get(side), secrets)
        if value in (None, {}, ""):
            return []
        return (json.dumps(value, indent=4, sort_keys=True, default=str) + "\n").splitlines(True)

    return "".join(difflib.unified_diff(lines("before"), lines("after"), fromfile="before", tofile="after"))


def closest(name, choices):
    """The choice most like ``name`` (a likely typo), or None."""
    found = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return found[0] if found else None


def unsupported_message(module, unknown, supported):
    """One sentence for options a module does not have: each with its likely meaning, else the valid ones."""
    unknown = sorted(unknown)
    guesses = ["%s (did you mean %s?)" % (name, closest(name, supported)) if closest(name, supported) else name
               for name in unknown]
    message = "Unsupported parameters for (%s) module: %s" % (module, ", ".join(guesses))
    if all(closest(name, supported) for name in unknown):
        return message
    return "%s; supported parameters include: %s" % (message, ", ".join(sorted(supported)))
