#!/usr/bin/env python3
"""Print the sandbox's connection as shell export lines: eval "$(make -s sandbox-env)".

Reads the bootstrap file the sandbox writes when it starts (make sandbox BOOTSTRAP=...).
The values go to stdout for eval only; nothing else is printed there.
"""

import json
import shlex
import sys

# environment variable <- (section of the bootstrap file, key); what the modules read (README)
VARIABLES = (
    ("CONDUCTORONE_SERVER_URL", "conductorone", "server_url"),
    ("CONDUCTORONE_CLIENT_ID", "conductorone", "client_id"),
    ("CONDUCTORONE_CLIENT_SECRET", "conductorone", "client_secret"),
    ("CONDUCTOR_SERVER_URL", "orkes", "server_url"),
    ("CONDUCTOR_AUTH_KEY", "orkes", "key_id"),
    ("CONDUCTOR_AUTH_SECRET", "orkes", "key_secret"),
)


def export_lines(boot):
    return ["export %s=%s" % (name, shlex.quote(boot[section][key])) for name, section, key in VARIABLES]


def main(argv):
    path = argv[1] if len(argv) > 1 else ".sandbox/bootstrap.json"
    try:
        with open(path) as handle:
            boot = json.load(handle)
    except (OSError, ValueError) as exc:
        sys.stderr.write("sandbox-env: cannot read the bootstrap file %s (%s); start the sandbox first with "
                         "make sandbox BOOTSTRAP=%s\n" % (path, getattr(exc, "strerror", None) or exc, path))
        return 1
    print("\n".join(export_lines(boot)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
