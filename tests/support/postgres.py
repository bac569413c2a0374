"""A throwaway PostgreSQL server for the suite: started once, on 127.0.0.1, in a temporary folder.

Debian's server binaries (``make test`` installs the ``postgresql`` package when they are
missing) run as the ``postgres`` user when the suite runs as root, since PostgreSQL
refuses to. Clients connect over TCP with a password, as crawls on other machines would;
each test gets a database of its own.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

_USER = "hltv"
_counter = itertools.count()


def _bindir() -> Path:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL's server is not installed (make test installs Debian's postgresql)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.password = secrets.token_urlsafe(12)
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="hltv-pg-"))
        self._as_postgres = os.geteuid() == 0

    def start(self) -> PostgresServer:
        bindir = _bindir()
        data = self.root / "data"
        pwfile = self.root / "pw"
        pwfile.write_text(self.password)
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chmod(self.root, 0o700)
            for path in (self.root, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(
            bindir / "initdb", "-D", data, "-U", "postgres", "--pwfile", pwfile,
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync",
        )
        # Durability settings off: a test database dies with the suite anyway.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._options = options
        self._run(bindir / "pg_ctl", "-D", data, "-o", options, "-l", self.root / "log", "-w", "start")
        self._bindir = bindir
        with self.admin() as admin:
            admin.execute(f"CREATE ROLE {_USER} LOGIN CREATEDB PASSWORD '{self.password}'")
        return self

    def stop(self) -> None:
        try:
            self._run(self._bindir / "pg_ctl", "-D", self.root / "data", "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        """Restart the server as an administrator or a failover does: every open
        connection is dropped."""
        self.halt()
        self.resume()

    def halt(self) -> None:
        """Stop the server (``fast``: connections are closed) until :meth:`resume`."""
        self._run(self._bindir / "pg_ctl", "-D", self.root / "data", "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        self._run(self._bindir / "pg_ctl", "-D", self.root / "data", "-o", self._options,
                  "-l", self.root / "log", "-w", "start")

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", password=self.password,
            dbname="postgres", autocommit=True,
        )

    def new_database(self) -> str:
        """A fresh, empty database: its URL, password included."""
        name = f"hltv_test_{next(_counter)}"
        with self.admin() as admin:
            admin.execute(f"CREATE DATABASE {name} OWNER {_USER}")
        return f"postgresql://{_USER}:{self.password}@127.0.0.1:{self.port}/{name}"

    def _run(self, *command: object) -> None:
        args = [str(part) for part in command]
        done = subprocess.run(
            args, capture_output=True, text=True, check=False,
            user="postgres" if self._as_postgres else None, cwd=self.root,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr[-2000:]}")
