# -*- coding: utf-8 -*-
from __future__ import annotations

import pytest

from ansible_collections.conductor.principals.plugins.module_utils.config import (
    parse_client_id, resolve_settings, server_from_client_id)
from ansible_collections.conductor.principals.plugins.module_utils.errors import ConfigError


@pytest.mark.parametrize("client_id, server", [
    ("clever-fox-42195@yourcompany.conductor.one/spc", "https://yourcompany.conductor.one"),
    ("clever-fox-42195@127.0.0.1:8443/spc", "https://127.0.0.1:8443"),
    ("quiet-owl-1@[::1]:9000/pcc", "https://[::1]:9000"),
    ("a@b/c", "https://b"),
])
def test_server_is_derived_from_client_id(client_id, server):
    assert server_from_client_id(client_id) == server


@pytest.mark.parametrize("client_id", [
    "", "clever-fox", "clever-fox@yourcompany.conductor.one", "@host/spc", "fox@/spc",
    "fox@host/", "fox@host:99999/spc", "fox@host:port/spc", "fox @host/spc", "fox@host/spc/extra",
    "fox@-host/spc",
])
def test_malformed_client_ids_are_refused_with_the_expected_form(client_id):
    with pytest.raises(ConfigError) as err:
        parse_client_id(client_id)
    assert "NAME@HOST/SUFFIX" in str(err.value)


def test_client_id_parts():
    parsed = parse_client_id("clever-fox-42195@yourcompany.conductor.one:443/spc")
    assert parsed == ("clever-fox-42195", "yourcompany.conductor.one", "443", "spc")


SECRET = "secret-token:opaque-value"


def test_options_beat_environment_and_server_is_derived():
    env = {"CONDUCTORONE_CLIENT_ID": "env-fox-1@env.example/spc", "CONDUCTORONE_CLIENT_SECRET": "secret-token:env"}
    settings = resolve_settings({"client_id": "opt-fox-2@opt.example/spc", "client_secret": SECRET}, env)
    assert settings.client_id == "opt-fox-2@opt.example/spc"
    assert settings.client_secret == SECRET
    assert settings.server_url == "https://opt.example"
    assert settings.auth_method == "secret"


def test_environment_is_used_when_options_are_absent():
    env = {"CONDUCTORONE_CLIENT_ID": "env-fox-1@env.example/spc", "CONDUCTORONE_CLIENT_SECRET": SECRET,
           "CONDUCTORONE_SERVER_URL": "https://override.example/"}
    settings = resolve_settings({}, env)
    assert settings.server_url == "https://override.example"  # env server beats derivation
    assert settings.client_id == "env-fox-1@env.example/spc"


def test_server_url_option_beats_environment():
    env = {"CONDUCTORONE_SERVER_URL": "https://env.example", "CONDUCTORONE_ACCESS_TOKEN": "tok"}
    settings = resolve_settings({"server_url": "https://opt.example"}, env)
    assert settings.server_url == "https://opt.example"
    assert settings.auth_method == "token"


def test_explicit_secret_option_wins_over_token_in_environment():
    env = {"CONDUCTORONE_ACCESS_TOKEN": "env-token"}
    settings = resolve_settings({"client_id": "fox-1@h.example/spc", "client_secret": SECRET}, env)
    assert settings.auth_method == "secret"
    assert settings.access_token is None


def test_token_beats_oidc_beats_secret_within_one_source():
    opts = {"client_id": "fox-1@h.example/spc", "client_secret": SECRET, "oidc_token": "o", "access_token": "t"}
    assert resolve_settings(opts, {}).auth_method == "token"
    del opts["access_token"]
    assert resolve_settings(opts, {}).auth_method == "oidc"


@pytest.mark.parametrize("options, env, fragment", [
    ({}, {}, "No ConductorOne credentials"),
    ({"client_secret": SECRET}, {}, "without client_id"),
    ({"oidc_token": "jwt"}, {}, "oidc_token needs client_id"),
    ({"access_token": "t"}, {}, "server_url is unknown"),
    ({"client_id": "bad", "client_secret": SECRET}, {}, "not a ConductorOne client ID"),
    ({"client_id": "bad", "client_secret": SECRET, "server_url": "https://x.example"}, {}, "not a ConductorOne client ID"),
    ({"client_id": "f-1@h/spc", "client_secret": SECRET, "server_url": "ftp://x"}, {}, "not an http(s) URL"),
    ({"client_id": "f-1@h/spc", "client_secret": SECRET, "timeout": 0}, {}, "timeout must be"),
    ({"client_id": "f-1@h/spc", "client_secret": SECRET, "retries": -1}, {}, "retries must be"),
    ({"client_id": "f-1@h/spc", "client_secret": SECRET, "ca_path": "/nonexistent/ca.pem"}, {}, "ca_path"),
    ({"platform": "orkes", "client_id": "k", "client_secret": "s"}, {}, "server_url is required"),
    ({"platform": "orkes"}, {"CONDUCTOR_SERVER_URL": "https://o.example/api"}, "No Orkes credentials"),
    ({"platform": "orkes", "oidc_token": "x", "server_url": "https://o"}, {}, "oidc_token is a ConductorOne option"),
    ({"platform": "azure"}, {}, "platform must be one of"),
])
def test_bad_connection_input_is_one_clear_sentence(options, env, fragment):
    with pytest.raises(ConfigError) as err:
        resolve_settings(options, env)
    text = str(err.value)
    assert fragment in text
    assert text.count(". ") == 0 and text.endswith(".")
    assert SECRET not in text


def test_orkes_reads_its_own_environment_and_appends_api():
    env = {"CONDUCTOR_SERVER_URL": "https://cluster.example", "CONDUCTOR_AUTH_KEY": "key-1",
           "CONDUCTOR_AUTH_SECRET": "shh", "CONDUCTORONE_CLIENT_ID": "ignored-1@x/spc"}
    settings = resolve_settings({"platform": "orkes"}, env)
    assert settings.server_url == "https://cluster.example/api"
    assert (settings.client_id, settings.client_secret) == ("key-1", "shh")
    assert resolve_settings({"platform": "orkes", "server_url": "https://c.example/api/"}, env).server_url \
        == "https://c.example/api"


@pytest.mark.parametrize("options, env, origin", [
    ({"server_url": "https://api.example.test"}, {"CONDUCTORONE_SERVER_URL": "https://other.test"},
     "the server_url option"),
    ({}, {"CONDUCTORONE_SERVER_URL": "https://api.example.test"}, "the environment variable CONDUCTORONE_SERVER_URL"),
    ({}, {}, "derived from the client ID (NAME@HOST/SUFFIX gives https://HOST)"),
])
def test_settings_say_where_the_server_url_came_from(options, env, origin):
    options = dict(options, client_id="fox@yourcompany.conductor.one/spc", client_secret="s")
    assert resolve_settings(options, env).server_url_from == origin


def test_orkes_server_url_from_its_own_environment_variable():
    settings = resolve_settings({"platform": "orkes"}, {"CONDUCTOR_SERVER_URL": "https://o.test",
                                                        "CONDUCTOR_AUTH_KEY": "k", "CONDUCTOR_AUTH_SECRET": "s"})
    assert settings.server_url_from == "the environment variable CONDUCTOR_SERVER_URL"
