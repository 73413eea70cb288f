"""make report-screenshot: the HTML credential report of a seeded sandbox tenant, as a PNG for the README.

Starts the sandbox, seeds principals and credentials over 40 days of its clock (some used, some
expired, expiring, overlapping, never used), holds most secrets in a vault_file store (not all),
runs playbooks/report.yml the way AWX would
(credentials in the environment), and screenshots the page with headless Chromium.
Usage: report_screenshot.py OUTPUT.png (needs `chromium` on PATH; Debian: apt-get install -y chromium).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
DAY = 86400


class Tenant(object):
    def __init__(self, boot):
        self.url = boot["server_url"]
        self.admin = boot["conductorone"]
        self.secrets = {}

    def token(self, client_id, secret):
        answer = requests.post(self.url + "/auth/v1/token", timeout=30, data={
            "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
        answer.raise_for_status()
        return answer.json()["access_token"]

    def api(self, method, path, **kwargs):
        token = self.token(self.admin["client_id"], self.admin["client_secret"])
        answer = requests.request(method, self.url + path, timeout=30, headers={"Authorization": "Bearer " + token},
                                  **kwargs)
        answer.raise_for_status()
        return answer.json()

    def advance(self, days):
        requests.post(self.url + "/_sandbox/clock", json={"advance_seconds": days * DAY}, timeout=30)

    def principal(self, name):
        return self.api("POST", "/api/v1/service_principals", json={"displayName": name})["servicePrincipal"]["id"]

    def credential(self, sp_id, name, days=90, used=True):
        answer = self.api("POST", "/api/v1/service_principals/%s/credentials" % sp_id,
                          json={"displayName": name, "expires": "%ds" % (days * DAY)})
        key = answer["credential"]["id"]
        self.secrets[key] = (answer["credential"]["clientId"], answer["clientSecret"])
        if used:
            self.use(key)
        return key

    def use(self, key):
        self.token(*self.secrets[key])


def seed(tenant):
    terraform, payments = tenant.principal("Terraform CI"), tenant.principal("Payments API")
    nightly, export = tenant.principal("Nightly build"), tenant.principal("Data export")
    legacy = tenant.credential(payments, "legacy-sync", days=30)
    tenant.credential(export, "s3-export", days=180)
    tenant.credential(terraform, "prod-terraform", days=180)
    tenant.advance(12)
    tenant.credential(nightly, "deploy", days=30)
    tenant.credential(terraform, "staging", days=60, used=False)
    tenant.advance(10)
    tenant.use(legacy)
    tenant.credential(payments, "webhooks", days=30)
    tenant.advance(18)  # day 40
    ci = [tenant.credential(terraform, "ci", days=90) for dummy in range(2)]
    tenant.credential(nightly, "artifacts", days=90)
    tenant.credential(export, "warehouse", days=60, used=False)
    tenant.credential(payments, "ledger", days=180)
    return ci


def fill_store(tenant, path, password):
    """Hold the secrets the way the roles do, except two: the old "ci" (replaced) and "ledger" (lost)."""
    from ansible_collections.conductor.principals.plugins.module_utils.stores import EntryKey, store_for
    from ansible_collections.conductor.principals.plugins.module_utils.stores.base import entry_content
    store = store_for({"type": "vault_file", "path": str(path), "password": password})
    token = tenant.token(tenant.admin["client_id"], tenant.admin["client_secret"])
    headers = {"Authorization": "Bearer " + token}
    principals = requests.get(tenant.url + "/api/v1/service_principals", params={"page_size": 100}, headers=headers,
                              timeout=30).json()["list"]
    for principal in principals:
        credentials = requests.get(tenant.url + "/api/v1/service_principals/%s/credentials" % principal["id"],
                                   params={"page_size": 100}, headers=headers, timeout=30).json()["list"]
        for credential in sorted(credentials, key=lambda c: c["createdAt"]):  # the newest of a name wins
            if credential["displayName"] == "ledger" or credential["id"] not in tenant.secrets:
                continue
            key = EntryKey("conductorone", principal["displayName"], credential["displayName"])
            client_id, secret = tenant.secrets[credential["id"]]
            stored = store.read(key)
            store.write(key, entry_content(key, credential, client_id, secret, tenant.url),
                        stored.version if stored else None)


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: report_screenshot.py OUTPUT.png")
    output = Path(sys.argv[1]).resolve()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("report-screenshot needs Chromium: apt-get install -y chromium")
    work = Path(tempfile.mkdtemp(prefix="conductor-report-"))
    boot_file = work / "boot.json"
    sandbox = subprocess.Popen([sys.executable, "-m", "conductor_sandbox", "--port", "0", "--bootstrap-file",
                                str(boot_file)], env=dict(os.environ, PYTHONPATH=str(ROOT / "sandbox")),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not boot_file.exists():
            if sandbox.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the sandbox did not start")
            time.sleep(0.1)
        boot = json.loads(boot_file.read_text())
        tenant = Tenant(boot)
        seed(tenant)
        store_password = "screenshot store password"
        fill_store(tenant, work / "store.vault", store_password)
        page = work / "credential-report.html"
        # A token rather than the client secret: the sandbox clock is 40 days ahead, and it would refuse a
        # client assertion signed with this machine's time.
        env = dict(os.environ, CONDUCTORONE_SERVER_URL=boot["server_url"],
                   CONDUCTORONE_ACCESS_TOKEN=tenant.token(boot["conductorone"]["client_id"],
                                                          boot["conductorone"]["client_secret"]),
                   CONDUCTOR_PRINCIPALS_REPORT_DEST=str(page), CONDUCTOR_PRINCIPALS_STORE_PATH=str(work / "store.vault"),
                   CONDUCTOR_PRINCIPALS_STORE_PASSWORD=store_password, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
        subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                        str(ROOT / "playbooks" / "report.yml")], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--force-device-scale-factor=1", "--window-size=1280,1060",
                        "--screenshot=%s" % output, page.as_uri()], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        print("wrote %s" % output)
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
