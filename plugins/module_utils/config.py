# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection settings: task options, then environment variables, then derivation.

Precedence (interface.md): an option wins over its environment variable; the C1
server URL falls back to ``https://HOST`` taken from the client ID.
"""

from __future__ import annotations

import os
import re
from collections import namedtuple
from urllib.parse import urlsplit

from .credential_plan import AUTH_METHODS
from .errors import ConfigError
from .platforms import CAPABILITIES, C1, DEFAULT_PLATFORM, ORKES, PLATFORMS, labels_where

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 5

# option -> environment variable, per platform (each adapter's Capabilities.environment)
ENV_FALLBACKS = {platform: dict(c.environment) for platform, c in CAPABILITIES.items()}

# NAME@HOST[:PORT]/SUFFIX — HOST is a DNS name, an IPv4 address or a bracketed IPv6 one.
_CLIENT_ID = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)"
    r"@(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
    r"/(?P<suffix>[A-Za-z0-9_-]+)$"
)

ClientId = namedtuple("ClientId", "name host port suffix")

ConnectionSettings = namedtuple(
    "ConnectionSettings",
    "platform server_url client_id client_secret access_token oidc_token "
    "validate_certs ca_path timeout retries auth_method server_url_from",
    defaults=(None,),
)
ConnectionSettings.__doc__ = "Everything the core needs to talk to one API, resolved and checked."


def parse_client_id(client_id):
    """Split a C1 client ID ``NAME@HOST[:PORT]/SUFFIX``; raise ConfigError if malformed."""
    match = _CLIENT_ID.match((client_id or "").strip())
    if not match or (match.group("port") and not 0 < int(match.group("port")) < 65536):
        raise ConfigError(
            "client_id %r is not a ConductorOne client ID; it must look like "
            "NAME@HOST/SUFFIX, for example clever-fox-42195@yourcompany.conductor.one/spc"
            % (client_id,)
        )
    return ClientId(match.group("name"), match.group("host"), match.group("port"), match.group("suffix"))


def server_from_client_id(client_id):
    """The C1 API server named by a client ID: ``https://HOST[:PORT]``."""
    parsed = parse_client_id(client_id)
    return "https://%s%s" % (parsed.host, ":" + parsed.port if parsed.port else "")


def is_plain_http_off_host(url):
    """Plain http:// to another host: what travels there is readable on the way (loopback never leaves the host)."""
    parts = urlsplit((url or "").strip())
    return parts.scheme.lower() == "http" and (parts.hostname or "") not in ("localhost", "127.0.0.1", "::1")


def plain_http_warnings(settings):
    """One sentence when the API is reached over plain http:// (every token and secret in clear)."""
    if not is_plain_http_off_host(settings.server_url):
        return []
    return ["server_url %s is plain http://: access tokens and every new secret travel unencrypted; use https://"
            % settings.server_url]


def normalise_server_url(url, platform, option="server_url"):
    """Check an API base URL; add the platform's suffix when missing (Orkes URLs end in ``/api``)."""
    capabilities = CAPABILITIES[platform]
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            "%s %r is not an http(s) URL; give the API base URL, for example %s"
            % (option, url, capabilities.server_url_example)
        )
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError("%s %r has an invalid port number" % (option, url))
    text = text.rstrip("/")
    suffix = capabilities.server_url_suffix
    if suffix and not text.endswith(suffix):
        text += suffix
    return text


def _server_url_from(options, environ, platform):
    """Where the server URL comes from, in words, for errors that say what to check."""
    if options.get("server_url") not in (None, ""):
        return "the server_url option"
    env_name = CAPABILITIES[platform].environment_variable("server_url")
    if environ.get(env_name) not in (None, ""):
        return "the environment variable %s" % env_name
    return "derived from the client ID (NAME@HOST/SUFFIX gives https://HOST)"


def _pick(options, environ, platform, name):
    value = options.get(name)
    if value in (None, ""):
        env_name = CAPABILITIES[platform].environment_variable(name)
        value = environ.get(env_name) if env_name else None
    return value if value not in (None, "") else None


def _auth_method(options, resolved, platform):
    """Choose how to authenticate; explicit options beat environment variables.

    Within one source the order is: a ready access token, an OIDC token to exchange,
    then client ID + secret.
    """
    order = ("access_token", "oidc_token", "client_secret")
    for source in (options, resolved):
        for name in order:
            if source.get(name) not in (None, ""):
                return {"access_token": "token", "oidc_token": "oidc", "client_secret": "secret"}[name]
    capabilities = CAPABILITIES[platform]
    raise ConfigError("No %s credentials were given; set %s" % (capabilities.label, capabilities.credentials_hint))


def _unsupported_options(capabilities):
    """The options of auth methods the platform lacks: given there, they are an error, never ignored."""
    return [option for method, option in AUTH_METHODS.items() if method not in capabilities.auth_methods]


def resolve_settings(options, environ=None):
    """Resolve a task's connection options into ConnectionSettings, or raise ConfigError."""
    environ = os.environ if environ is None else environ
    platform = options.get("platform") or DEFAULT_PLATFORM
    if platform not in PLATFORMS:
        raise ConfigError("platform must be one of %s, not %r" % (", ".join(PLATFORMS), platform))
    capabilities = CAPABILITIES[platform]
    for name in _unsupported_options(capabilities):
        if options.get(name) not in (None, ""):
            method = next(m for m, option in AUTH_METHODS.items() if option == name)
            raise ConfigError("%s is a %s option; %s has no equivalent, remove it"
                              % (name, labels_where(lambda c, m=method: m in c.auth_methods, full=True),
                                 capabilities.full_label))

    resolved = {name: _pick(options, environ, platform, name)
                for name in ("server_url", "client_id", "client_secret", "access_token", "oidc_token")}
    method = _auth_method(options, resolved, platform)

    if method == "secret" and not resolved["client_id"]:
        raise ConfigError("client_secret was given without client_id; set client_id too")
    if method == "oidc" and not resolved["client_id"]:
        raise ConfigError("oidc_token needs client_id, the client ID of the workload federation trust")

    server_url = resolved["server_url"]
    if capabilities.client_id_names_server and resolved["client_id"] and method != "token":
        parse_client_id(resolved["client_id"])  # a malformed ID is bad input even with server_url
    if not server_url:
        if not capabilities.client_id_names_server:
            raise ConfigError("server_url is required for %s; set it or %s"
                              % (capabilities.full_label, capabilities.environment_variable("server_url")))
        if not resolved["client_id"]:
            raise ConfigError(
                "server_url is unknown; set server_url (or CONDUCTORONE_SERVER_URL), or a client_id "
                "to derive it from"
            )
        server_url = server_from_client_id(resolved["client_id"])
    server_url = normalise_server_url(server_url, platform)

    timeout = options.get("timeout")
    timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    if timeout <= 0:
        raise ConfigError("timeout must be a positive number of seconds, not %s" % timeout)
    retries = options.get("retries")
    retries = DEFAULT_RETRIES if retries is None else int(retries)
    if retries < 0:
        raise ConfigError("retries must be 0 or more, not %s" % retries)
    ca_path = _pick(options, environ, platform, "ca_path")  # an AWX credential injects it as a file
    if ca_path and not os.path.exists(ca_path):
        raise ConfigError("ca_path %r does not exist; give the path of a PEM CA bundle" % ca_path)
    validate_certs = options.get("validate_certs")

    return ConnectionSettings(
        platform=platform,
        server_url=server_url,
        client_id=resolved["client_id"],
        client_secret=resolved["client_secret"] if method == "secret" else None,
        access_token=resolved["access_token"] if method == "token" else None,
        oidc_token=resolved["oidc_token"] if method == "oidc" else None,
        validate_certs=True if validate_certs is None else bool(validate_certs),
        ca_path=ca_path or None,
        timeout=timeout,
        retries=retries,
        auth_method=method,
        server_url_from=_server_url_from(options, environ, platform),
    )


__all__ = ["parse_client_id", "server_from_client_id", "is_plain_http_off_host", "plain_http_warnings",
           "normalise_server_url", "resolve_settings", "ClientId", "ConnectionSettings", "ENV_FALLBACKS",
           "DEFAULT_TIMEOUT", "DEFAULT_RETRIES", "PLATFORMS", "C1", "ORKES"]
