#!/usr/bin/env bash
# make demo: start the sandbox, run playbooks/demo.yml against it the way AWX would
# (credentials in environment variables), stop the sandbox by its PID.
set -euo pipefail
python=${PYTHON:-python3}
work=$(mktemp -d)
PYTHONPATH=sandbox "$python" -m conductor_sandbox --port 0 --bootstrap-file "$work/bootstrap.json" \
  > "$work/sandbox.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  [ -s "$work/bootstrap.json" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/sandbox.log"; exit 1; }
  sleep 0.1
done
# The bootstrap admin credential, as AWX would inject it; never echoed.
eval "$("$python" tools/sandbox_env.py "$work/bootstrap.json")"
# The encrypted secret store, as the secret store credential type would inject it.
export CONDUCTOR_PRINCIPALS_STORE_PATH="$work/identities.vault"
CONDUCTOR_PRINCIPALS_STORE_PASSWORD=$("$python" -c 'import secrets; print(secrets.token_urlsafe(24))')
export CONDUCTOR_PRINCIPALS_STORE_PASSWORD
echo "sandbox running at $CONDUCTORONE_SERVER_URL (pid $pid)"
ansible-playbook -i localhost, -c local playbooks/demo.yml
echo "store: $CONDUCTOR_PRINCIPALS_STORE_PATH ($(stat -c %a "$CONDUCTOR_PRINCIPALS_STORE_PATH"), $(head -c 14 "$CONDUCTOR_PRINCIPALS_STORE_PATH"))"
# How to open it: ansible-vault with the collection's password helper (no prompt, no terminal).
# Only the entry names are shown here, never a secret.
echo "its entries (ansible-vault view --vault-password-file scripts/store-password <store>):"
ansible-vault view --vault-password-file scripts/store-password "$CONDUCTOR_PRINCIPALS_STORE_PATH" |
  "$python" -c 'import json, sys; [print("  " + k) for k in sorted(json.load(sys.stdin)["entries"])]'
echo "second run (nothing to change):"
ansible-playbook -i localhost, -c local playbooks/demo.yml | grep -A1 'PLAY RECAP' | tail -1
echo "This demo is throwaway: its sandbox and its store are deleted now. For a store you keep, follow"
echo "docs/guide/first-steps.md (make sandbox, then your own first playbook)."
