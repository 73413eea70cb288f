# -*- coding: utf-8 -*-
# Copyright: conductor.principals contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  platform:
    description:
      - Which API to talk to.
      - On C(orkes) a service principal is an application and a credential is an access key.
    type: str
    choices: [conductorone, orkes]
    default: conductorone
  server_url:
    description:
      - Base URL of the API.
      - "ConductorOne: if not set, the environment variable E(CONDUCTORONE_SERVER_URL) is used, else
        C(https://HOST) derived from O(client_id) (C(NAME@HOST/SUFFIX))."
      - "Orkes Conductor: required; if not set, E(CONDUCTOR_SERVER_URL) is used. C(/api) is appended
        when the URL does not end with it."
    type: str
  client_id:
    description:
      - ConductorOne client ID (C(NAME@HOST/SUFFIX)), or the Orkes access key ID.
      - If not set, E(CONDUCTORONE_CLIENT_ID) (ConductorOne) or E(CONDUCTOR_AUTH_KEY) (Orkes) is used.
    type: str
  client_secret:
    description:
      - ConductorOne client secret (C(secret-token:...)), or the Orkes access key secret.
      - A ConductorOne C(v1) secret is used to sign a private-key JWT assertion and never leaves
        the machine; any other ConductorOne secret is posted as C(client_secret).
      - If not set, E(CONDUCTORONE_CLIENT_SECRET) (ConductorOne) or E(CONDUCTOR_AUTH_SECRET) (Orkes) is used.
    type: str
  access_token:
    description:
      - A ready access token, for example from M(conductor.principals.access_token); skips the token exchange.
      - If not set, E(CONDUCTORONE_ACCESS_TOKEN) is used (ConductorOne).
      - A given token cannot be renewed when it expires.
    type: str
  oidc_token:
    description:
      - ConductorOne workload federation; an OIDC JWT exchanged for an access token (RFC 8693), with O(client_id).
      - If not set, E(CONDUCTORONE_OIDC_TOKEN) is used. ConductorOne only.
    type: str
  validate_certs:
    description:
      - Verify the server's TLS certificate. Turn off only for a throw-away test server.
    type: bool
    default: true
  ca_path:
    description:
      - Path of a PEM CA bundle that signed the server's certificate (a private CA).
      - If not set, E(CONDUCTORONE_CA_PATH) is used (ConductorOne), or E(CONDUCTOR_CA_PATH) (Orkes).
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP request.
    type: float
    default: 30
  retries:
    description:
      - How many times to retry a request answered with 429, 502, 503 or 504, or that failed to connect.
      - Waits grow exponentially with jitter and are at least what C(Retry-After) asks.
      - A create whose answer was lost is never resent before the module has checked that it did not happen.
    type: int
    default: 5
notes:
  - "Credentials are chosen in this order: options given on the task before environment variables; within
    one source, O(access_token), then O(oidc_token), then O(client_id) with O(client_secret)."
  - A token rejected with HTTP 401 during a run is replaced once when the credentials allow it.
requirements:
  - requests
  - PyJWT
  - cryptography
'''
