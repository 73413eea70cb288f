# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ApiClient: authenticated JSON calls, one re-authentication on 401, C1 pagination."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from .auth import Authenticator, token_source_for
from .errors import ConductorError, OutcomeUnknownError, parse_error_body
from .transport import Transport, request_id_of

MAX_PAGES = 10000  # a guard against a server that never ends a listing


def _api_message(response, secrets):
    code, message = parse_error_body(response, secrets)
    return message or code or None


_STATUS_HINTS = {
    400: "the API rejected the request as invalid",
    401: "the credentials were not accepted; check them, and that the credential is still live",
    403: "the credential lacks permission for it, for example because it is scoped to a read-only role",
    404: "it does not exist (or the credential cannot see it)",
    409: "it conflicts with the current state",
    429: "the API kept rate-limiting the request; try again later or raise retries",
}


class ApiClient(object):
    """Talks to one API with one set of credentials; plain dicts in and out."""

    def __init__(self, settings, transport=None, authenticator=None):
        self.settings = settings
        self.transport = transport or Transport(
            timeout=settings.timeout, validate_certs=settings.validate_certs,
            ca_path=settings.ca_path, retries=settings.retries, url_from=settings.server_url_from)
        self.auth = authenticator or Authenticator(token_source_for(settings))
        self.server_time = None

    def url(self, path):
        return self.settings.server_url + path

    def call(self, method, path, what, json=None, params=None, ok=(200,), idempotent=None):
        """Send one API request and return its decoded JSON body (``{}`` when empty).

        ``what`` names the action for error messages ("create service principal 'x'").
        Statuses outside ``ok`` raise ConductorError; a 404 in ``ok`` returns None.
        """
        url = self.url(path)
        self.auth.ensure_token(self.transport)
        reauthenticated = False
        while True:
            def add_auth(headers):
                headers.update(self.auth.headers(method, url))

            try:
                response = self.transport.request(
                    method, url, json=json, params=params, prepare=add_auth,
                    headers={"Accept": "application/json"}, idempotent=idempotent)
            except OutcomeUnknownError as exc:
                exc.message = "Could not %s: %s" % (what, exc.message)
                raise
            if response.status_code == 401 and not reauthenticated and self._dpop_nonce(response):
                reauthenticated = True
                continue
            if response.status_code == 401 and not reauthenticated and self.auth.refresh(self.transport):
                reauthenticated = True
                continue
            break
        self._note_server_time(response)
        if response.status_code in ok:
            if response.status_code == 404:
                return None
            if not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                raise ConductorError("Could not %s: the API answered something that is not JSON" % what,
                                     status=response.status_code, request_id=request_id_of(response))
        raise ConductorError(
            "Could not %s: %s" % (what, _STATUS_HINTS.get(response.status_code, "the API refused it")),
            status=response.status_code,
            api_message=_api_message(response, self.auth.secrets),
            request_id=request_id_of(response),
            attempts=getattr(response, "attempts", None))

    def _note_server_time(self, response):
        try:
            stamp = parsedate_to_datetime(response.headers.get("Date") or "")
        except (TypeError, ValueError, IndexError):
            return
        if stamp is not None and stamp.tzinfo is not None:
            self.server_time = stamp

    def server_now(self):
        """The server's clock (the Date of its last answer), else ours.

        Ages of server timestamps (last use, expiry) are judged on the clock that wrote
        them, so a controller whose clock drifts never retires a credential early.
        """
        return self.server_time or datetime.now(timezone.utc)

    def _dpop_nonce(self, response):
        """A resource server may ask for a DPoP nonce; remember it and say to resend."""
        nonce = response.headers.get("DPoP-Nonce")
        if self.auth.dpop is None or not nonce or 'use_dpop_nonce' not in response.headers.get(
                "WWW-Authenticate", ""):
            return False
        self.auth.dpop.nonce = nonce
        return True

    def paginate(self, path, what, params=None, item_key="list", page_size=100, search=None):
        """Yield every item of a C1 list, following nextPageToken to the end.

        A search (``search``: its request body, such as SearchTrusts') is a POST that reads nothing but
        takes pageSize and pageToken in its body instead of the query.
        """
        if search is None:
            request = dict(params or {}, page_size=page_size)
        else:
            request = dict(search, pageSize=page_size)
        seen_tokens = set()
        for _page in range(MAX_PAGES):
            if search is None:
                body = self.call("GET", path, what, params=request) or {}
            else:
                body = self.call("POST", path, what, json=request, idempotent=True) or {}
            yield from body.get(item_key) or ()
            token = body.get("nextPageToken")
            if not token:
                return
            if token in seen_tokens:
                raise ConductorError("Could not %s: the API repeated page token of an earlier page" % what)
            seen_tokens.add(token)
            request["page_token" if search is None else "pageToken"] = token
        raise ConductorError("Could not %s: the listing did not end after %d pages" % (what, MAX_PAGES))

    @property
    def host(self):
        return urlsplit(self.settings.server_url).netloc


def create_once(send, find):
    """Create something exactly once even when the answer to the create is lost.

    ``send()`` performs the create; ``find()`` looks for what it would have made and
    returns it or None. On OutcomeUnknownError the server is asked first: if the
    thing exists it is returned (``recovered=True``), otherwise the create is sent
    again. Returns (result, recovered).
    """
    try:
        return send(), False
    except OutcomeUnknownError:
        existing = find()
        if existing is not None:
            return existing, True
        return send(), False
