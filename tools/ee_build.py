#!/usr/bin/env python3
"""`make ee`: the execution environment image built from this repository on a machine with no
image registry.

1. A Debian bookworm base image from Debian packages: mmdebstrap (the machine's apt sources)
   into a tarball, `podman import` (kept: built once per machine).
2. The EE definition for that base, derived from the one users build
   (execution-environment/execution-environment.yml, CentOS Stream): the same dependencies
   (ansible-core, ansible-runner, the collection from its tarball with its Python
   requirements), only the base image, the Python interpreter and the package manager differ.
3. ansible-builder 3 builds it with podman; pip inside the build uses the host's CA bundle.

`make de` builds the decision environment the same way (--definition decision-environment/decision-environment.yml),
on the EE image `make ee` has just built (--base-image: its Debian, Python, ansible-core, ansible-runner and
collection are already there): the build adds what the DE definition adds, ansible-rulebook from PyPI and its
Java from Debian (the definition's bindep system packages for dpkg, installed with apt-get).

Run by .venv-ee's Python (ansible-builder, PyYAML); podman reads CONTAINERS_CONF.
"""

from __future__ import annotations

import argparse
import copy
import glob
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "execution-environment" / "execution-environment.yml"
BASE_IMAGE = "localhost/conductor-ee-base:bookworm"
BASE_PACKAGES = "python3,python3-pip,python3-venv,ca-certificates"
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"
BUILD_CA = "/run/host-ca.crt"


def debian_definition(source, base_image=BASE_IMAGE):
    """The user's definition with the Debian base: the dependencies stay as they are, but for the
    interpreter (Debian's python3, which the base has) and the system packages (apt-get's)."""
    definition = copy.deepcopy(source)
    definition["images"] = {"base_image": {"name": base_image}}
    dependencies = definition["dependencies"]
    dependencies["python_interpreter"] = {"python_path": "/usr/bin/python3"}
    options = dict(definition.get("options") or {})
    # pip is Debian's: ensurepip is disabled there, so ansible-builder must not bootstrap its own.
    options.update(package_manager_path="/usr/bin/true", skip_pip_install=True)
    packages = debian_packages(dependencies.get("system") or [])
    if packages:
        # ansible-builder's own install of them would run with no package lists (a minbase image has
        # none) and in the builder stage too: apt-get does it once, in the final stage.
        steps = definition.setdefault("additional_build_steps", {})
        steps["prepend_final"] = [
            "RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends"
            " %s && rm -rf /var/lib/apt/lists/*" % " ".join(packages)] + list(steps.get("prepend_final") or [])
    options.pop("tags", None)
    definition["options"] = options
    return definition


def debian_packages(bindep_lines):
    """The Debian packages of the definition's bindep system lines: those for dpkg or any platform."""
    packages = []
    for line in bindep_lines:
        name, _, selectors = line.partition("[")
        platforms = [s for s in selectors.rstrip("] ").split() if s.startswith("platform:")]
        if not platforms or {"platform:dpkg", "platform:debian"} & set(platforms):
            packages.append(name.strip())
    return packages


def _run(command, **kwargs):
    print("+ " + " ".join(str(c) for c in command), flush=True)
    subprocess.run([str(c) for c in command], check=True, **kwargs)


def _image_exists(podman, name):
    return subprocess.run([podman, "image", "exists", name], check=False).returncode == 0


def ensure_base(podman, work, sources):
    if _image_exists(podman, BASE_IMAGE):
        print("base image %s is there" % BASE_IMAGE)
        return BASE_IMAGE
    tarball = work / "debian-bookworm.tar"
    started = time.monotonic()
    _run(["mmdebstrap", "--quiet", "--variant=minbase", "--include=" + BASE_PACKAGES, "bookworm", tarball, sources])
    _run([podman, "import", "--change", 'CMD ["/bin/bash"]', tarball, BASE_IMAGE], stdout=subprocess.DEVNULL)
    tarball.unlink()
    print("base image %s made in %.0f s" % (BASE_IMAGE, time.monotonic() - started))
    return BASE_IMAGE


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", required=True, help="the built collection tarball")
    parser.add_argument("--work", required=True, help="a directory for the build context")
    parser.add_argument("--tag", required=True, help="the image name to build")
    parser.add_argument("--sources", default="/etc/apt/sources.list.d/debian.sources",
                        help="the apt sources mmdebstrap uses (the machine's)")
    parser.add_argument("--definition", default=str(SOURCE),
                        help="the user's definition; the other files of its folder go into the build too")
    parser.add_argument("--base-image",
                        help="build on this image (make de: the EE image) instead of the Debian base")
    args = parser.parse_args()
    podman = shutil.which("podman") or sys.exit("make ee: podman is missing (make ee-host installs it)")
    work = Path(args.work)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    sources = args.sources if os.path.exists(args.sources) else "/etc/apt/sources.list"
    if args.base_image:
        if not _image_exists(podman, args.base_image):
            sys.exit("make de: the image %s to build on is missing (make ee builds it)" % args.base_image)
        base_image = args.base_image
    else:
        base_image = ensure_base(podman, work, sources)

    source = Path(args.definition).resolve()
    definition = debian_definition(yaml.safe_load(source.read_text()), base_image)
    recipe = work / "recipe"
    recipe.mkdir()
    (recipe / source.name).write_text(
        "# Made by tools/ee_build.py from %s\n" % source.relative_to(REPO)
        + yaml.safe_dump(definition, sort_keys=False))
    for name in glob.glob(str(source.parent / "*")):
        if Path(name).name != source.name:
            shutil.copy(name, recipe)
    shutil.copy(args.tarball, recipe)
    builder = Path(sys.executable).parent / "ansible-builder"
    podman_args = "--volume %s:%s:ro --env PIP_CERT=%s" % (HOST_CA, BUILD_CA, BUILD_CA)
    if args.base_image:
        # Its base is new at every make ee, so no layer would ever be reused: commit the image alone.
        podman_args += " --layers=false"
    started = time.monotonic()
    _run([builder, "build", "--container-runtime", "podman", "-f", recipe / source.name,
          "-c", work / "context", "-t", args.tag, "-v", "1", "--extra-build-cli-args", podman_args])
    print("built %s in %.0f s" % (args.tag, time.monotonic() - started))


if __name__ == "__main__":
    main()
