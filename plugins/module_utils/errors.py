# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one error type of the core, and the scrubbing that keeps secrets out of it."""

from __future__ import annotations

import re

# Anything that looks like a credential is scrubbed from text that came from a server
# before it can reach an error message: an API may echo a request back.
_SECRET_PATTERNS = (
    re.compile(r"secret-token:[^\s\"',;]+"),
    re.compile(r"\b(Bearer|DPoP)\s+[A-Za-z0-9._~+/=-]{16,}", re.IGNORECASE),
    re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"),  # a JWS/JWT
)
REDACTED = "<redacted>"


def redact(text, secrets=()):
    """Return ``text`` with known secrets and anything secret-shaped replaced."""
    if text is None:
        return None
    text = str(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def parse_error_body(response, secrets=()):
    """``(code, message)`` from the body of an API error answer, both redacted ("" when absent).

    The one reader of error bodies for every API we talk to: OAuth (``error``,
    ``error_description``), C1 and Orkes (``message``); a body that is not JSON gives its
    first 200 characters as the message.
    """
    try:
        body = response.json()
    except ValueError:
        return "", redact((getattr(response, "text", "") or "")[:200].strip(), secrets)
    if not isinstance(body, dict):
        return "", ""
    code = body.get("error") if isinstance(body.get("error"), str) else ""
    message = body.get("error_description") or body.get("message") or ""
    return redact(code, secrets), redact(str(message), secrets)


class ConductorError(Exception):
    """A failure the user can act on, rendered as one sentence.

    ``message`` says what went wrong and what to fix; ``status``, ``api_message`` and
    ``request_id`` come from the HTTP answer when there was one.
    """

    def __init__(self, message, status=None, api_message=None, request_id=None, attempts=None):
        self.message = redact(message).rstrip(". ")
        self.status = status
        self.api_message = redact(api_message).strip().rstrip(".") if api_message else None
        self.request_id = request_id
        self.attempts = attempts
        super().__init__(str(self))

    def __str__(self):
        details = []
        if self.status is not None:
            details.append("HTTP %s" % self.status)
        if self.api_message:
            details.append('the API said "%s"' % self.api_message)
        if self.attempts and self.attempts > 1:
            details.append("after %d attempts" % self.attempts)
        if self.request_id:
            details.append("request id %s" % self.request_id)
        if details:
            return "%s (%s)." % (self.message, "; ".join(details))
        return self.message + "."

    def to_dict(self):
        """The error as plain data, for module results."""
        return {
            "status": self.status,
            "api_message": self.api_message,
            "request_id": self.request_id,
            "attempts": self.attempts,
        }


class ConfigError(ConductorError):
    """Bad input: detected before anything was sent."""


class OutcomeUnknownError(ConductorError):
    """A request that may have changed something lost its answer.

    It is never retried blindly: the caller must look before sending it again.
    """


class MissingDependencyError(ConfigError):
    """A required Python library is not installed where the task runs."""
