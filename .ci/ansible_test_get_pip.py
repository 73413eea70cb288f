"""Stand-in for ansible-test's pip bootstrap script, whose download host this machine cannot reach.

ansible-test runs ``get_pip_<version>.py`` with a new virtual environment's Python,
pip options and the packages to install (``pip==X``, ...). This does the same with the
standard library's ensurepip and then pip itself from PyPI. ansible-test runs pip with
a filtered environment, so the machine's CA bundle (PIP_CERT and friends are dropped)
is written into the virtual environment's own pip.conf.
"""
import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}
BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")

bundle = next((path for path in BUNDLES if os.path.exists(path)), None)
if bundle:
    with open(os.path.join(sys.prefix, "pip.conf"), "w") as config:
        config.write("[global]\ncert = %s\n" % bundle)

ensurepip.bootstrap(upgrade=True)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"]
                      + (["--cert", bundle] if bundle else [])
                      + [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY])
