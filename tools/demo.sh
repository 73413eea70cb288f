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
eval "$("$python" - "$work/bootstrap.json" <<'PY'
import json, shlex, sys
boot = json.load(open(sys.argv[1]))
for name, value in (("CONDUCTORONE_SERVER_URL", boot["server_url"]),
                    ("CONDUCTORONE_CLIENT_ID", boot["conductorone"]["client_id"]),
                    ("CONDUCTORONE_CLIENT_SECRET", boot["conductorone"]["client_secret"])):
    print("export %s=%s" % (name, shlex.quote(value)))
PY
)"
echo "sandbox running at $CONDUCTORONE_SERVER_URL (pid $pid)"
ansible-playbook -i localhost, -c local playbooks/demo.yml
