"""python -m conductor_sandbox --port PORT --bootstrap-file FILE [--tls-dir DIR] [--state-file FILE]"""

import argparse
import copy
import json
import os
import signal
import sys
import threading

from . import c1, orkes
from .app import create_app
from .keys import make_tls
from .server import Server
from .store import Store


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m conductor_sandbox",
                                     description="Local emulator of the ConductorOne and Orkes Conductor APIs.")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8990, help="port; 0 picks a free one (default 8990)")
    parser.add_argument("--bootstrap-file", required=True,
                        help="where to write the admin credentials of both platforms (JSON, mode 0600)")
    parser.add_argument("--tls-dir", help="serve HTTPS with a CA and certificate generated in this directory")
    parser.add_argument("--state-file", help="persist the state to this JSON file (default: memory only)")
    parser.add_argument("--page-size", type=int, default=10, help="default page size of C1 lists (default 10)")
    parser.add_argument("--token-ttl", type=int, default=3600, help="access token lifetime in seconds")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--host must be a loopback address")
    return args


def write_private(path, text):
    temp = path + ".tmp"
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(temp, path)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    store = Store(state_file=args.state_file, settings={"page_size": args.page_size, "token_ttl": args.token_ttl})
    app = create_app(store)
    tls, ca_path = None, None
    if args.tls_dir:
        cert, key, ca_path = make_tls(args.tls_dir, args.host)
        tls = (cert, key)
    server = Server(args.host, args.port, app, tls=tls)
    scheme = "https" if tls else "http"
    host = "[%s]" % args.host if ":" in args.host else args.host
    address = "%s:%d" % (host, server.port)
    base = "%s://%s" % (scheme, address)

    if not store.load():
        store.data["bootstrap"] = {"conductorone": c1.bootstrap(store, app.config["c1"], address),
                                   "orkes": orkes.bootstrap(store, app.config["orkes"])}
        store.save()
    app.config["baseline"] = copy.deepcopy(store.data)
    boot = store.data["bootstrap"]
    write_private(args.bootstrap_file, json.dumps({
        "server_url": base, "pid": os.getpid(), "ca_path": ca_path,
        "conductorone": dict(server_url=base, **{k: boot["conductorone"][k] for k in ("client_id", "client_secret")}),
        "orkes": {"server_url": base + "/api", "key_id": boot["orkes"]["key_id"],
                  "key_secret": boot["orkes"]["key_secret"]},
    }, indent=2))

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("conductor sandbox listening on %s (bootstrap credentials in %s)" % (base, args.bootstrap_file), flush=True)
    server.serve_forever()
    store.save()
    print("conductor sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
