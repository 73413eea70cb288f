# -*- coding: utf-8 -*-
"""An OpenSSH server of the tests' own on 127.0.0.1 (a free port, a throwaway host key and client key),
stopped by its PID: the remote path's tests reach it as an inventory host (fixture ``sshd`` in conftest.py)."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
import yaml

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")


def _sshd_program():
    found = shutil.which("sshd") or next((p for p in SSHD_CANDIDATES if os.access(p, os.X_OK)), None)
    if not found:
        pytest.fail("OpenSSH's sshd is not installed; `make integration` installs it (Debian: openssh-server)")
    return found


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _keygen(path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "conductor-test", "-f", str(path)],
                   check=True)


class SshServer(object):
    def __init__(self, work):
        self.work = work
        self.port = _free_port()
        self.user = getpass.getuser()
        self.client_key = work / "client_key"
        self.known_hosts = work / "known_hosts"
        host_key = work / "host_key"
        _keygen(host_key)
        _keygen(self.client_key)
        (work / "authorized_keys").write_text((work / "client_key.pub").read_text())
        os.chmod(work / "authorized_keys", 0o600)
        self.known_hosts.write_text("[127.0.0.1]:%d %s\n" % (self.port, " ".join(
            (work / "host_key.pub").read_text().split()[:2])))
        self.config = work / "sshd_config"
        self.config.write_text("\n".join([
            "Port %d" % self.port, "ListenAddress 127.0.0.1", "HostKey %s" % host_key,
            "AuthorizedKeysFile %s" % (work / "authorized_keys"), "PidFile %s" % (work / "sshd.pid"),
            "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password", "UsePAM no", "StrictModes no", "PermitUserEnvironment no",
            "Subsystem sftp internal-sftp", "LogLevel INFO", ""]))

    def start(self):
        program = _sshd_program()
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        subprocess.run([program, "-t", "-f", str(self.config)], check=True)
        self.log = open(self.work / "sshd.log", "w")
        # sshd wants its absolute path to re-execute itself; -D: no daemon, so the PID is ours to stop.
        self.process = subprocess.Popen([program, "-D", "-e", "-f", str(self.config)],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, "sshd exited; see %s" % (self.work / "sshd.log")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    if conn.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                pass
            assert time.monotonic() < deadline, "sshd did not answer on port %d" % self.port
            time.sleep(0.1)

    def stop(self):
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def inventory(self, path, pipelining, python=sys.executable):
        """An inventory of one host, ``bastion``, reached over ssh as the current user."""
        host = {
            "ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": self.port,
            "ansible_user": self.user, "ansible_ssh_private_key_file": str(self.client_key),
            "ansible_ssh_common_args": "-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes"
                                       % self.known_hosts,
            "ansible_ssh_pipelining": pipelining, "ansible_python_interpreter": python,
        }
        path.write_text(yaml.safe_dump({"all": {"hosts": {"bastion": host}}}))
        return path
