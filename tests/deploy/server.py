"""Run the app the way it is deployed: real gunicorn in a subprocess, production configuration, on a
database prepared by the real `flask` commands. Used by the deployment tests (tests/deploy/conftest.py)
and by the load benchmark (bench/bench_load.py); it does not need the test runner.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from quiz import create_app
from quiz.assignments import create_assignment, format_code, ready_module_ids
from quiz.extensions import db
from quiz.models import Answer
from tests.deploy.http import Browser

PROJECT_ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Settings of the developer's shell that must not leak into the servers under test.
NOT_INHERITED_PREFIXES = ("QUIZ_", "FLASK_", "GUNICORN_", "TEST_", "SQLITE_", "RATELIMIT_")
NOT_INHERITED = {
    "DATABASE_URL", "SECRET_KEY", "ACCESS_CODE_KEY", "PROXY_HOPS", "WEB_CONCURRENCY", "BIND", "PORT",
    "PUBLIC_BASE_URL", "HSTS_SECONDS", "MAX_CONTENT_LENGTH", "QUESTIONS_DIR", "CODE_ATTEMPTS_LIMIT",
}


class ServerError(RuntimeError):
    """A server or command did not start or failed; the message carries its output."""


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL answers at the configured URL."""


# ---------------------------------------------------------------------------------------------------
# TLS


@dataclass(frozen=True)
class TLSFiles:
    cert: Path
    key: Path
    spki_sha256: str  # base64 SHA-256 of the public key, for --ignore-certificate-errors-spki-list

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def make_tls_files(folder: Path) -> TLSFiles:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption(),
    ))
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    return TLSFiles(cert_path, key_path, base64.b64encode(hashlib.sha256(spki).digest()).decode())


# ---------------------------------------------------------------------------------------------------
# Servers


class GunicornServer:
    def __init__(self, deployment: Deployment, name: str, database_url: str, env: dict[str, str],
                 workers: int | None, threads: int | None, tls: TLSFiles | None):
        self.deployment = deployment
        self.name = name
        self.database_url = database_url
        self.env = env
        self.workers, self.threads, self.tls = workers, threads, tls
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.port = self.listener.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.log_path = deployment.workdir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    # life cycle

    def start(self, timeout: float = 60) -> GunicornServer:
        fd = self.listener.fileno()
        command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"fd://{fd}"]
        if self.workers:  # None: gunicorn.conf.py's own setting
            command += ["--workers", str(self.workers)]
        if self.threads:
            command += ["--threads", str(self.threads)]
        if self.tls:
            command += ["--certfile", str(self.tls.cert), "--keyfile", str(self.tls.key)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=[fd], start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"gunicorn ({self.name}) exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                if self.browser(timeout=2).get("/healthz").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.kill()
        raise ServerError(f"gunicorn ({self.name}) did not answer /healthz in {timeout} s:\n{self.log()[-3000:]}")

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL the master and every worker at once (a crash, an OOM kill, a pulled plug)."""
        if self.process and self.process.poll() is None:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=10)
        self._signal_group(signal.SIGKILL)  # workers that outlived their master

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> GunicornServer:
        self.kill()
        return self.start()

    def close(self) -> None:
        self.stop()
        self.listener.close()

    def __enter__(self) -> GunicornServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    # driving it

    def browser(self, timeout: float = 30) -> Browser:
        return Browser(self.url, self.tls.client_context() if self.tls else None, timeout=timeout)

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        return self.deployment.flask(self.env, *args)

    # its database, read and prepared directly

    @property
    def app(self):
        return self.deployment.app_for(self.database_url)

    def ready_modules(self) -> list[str]:
        with self.app.app_context():
            return ready_module_ids()

    def new_assignments(self, count: int, module_ids: list[str]) -> list[tuple[int, str]]:
        with self.app.app_context():
            made = []
            for number in range(count):
                assignment, code = create_assignment(f"{self.name} patient {number}", module_ids, 14)
                made.append((assignment.id, format_code(code)))
            db.session.commit()
            return made

    def answers(self, assignment_ids) -> list[Answer]:
        with self.app.app_context():
            rows = db.session.execute(
                db.select(Answer).where(Answer.assignment_id.in_(list(assignment_ids)))
                .order_by(Answer.assignment_id, Answer.module_id, Answer.step)
            ).scalars().all()
            db.session.expunge_all()
            return rows


class Deployment:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.secret_key = secrets.token_hex(32)
        self.questions_dir = workdir / "questions"
        shutil.copytree(PROJECT_ROOT / "questions", self.questions_dir)
        self.servers: list[GunicornServer] = []
        self._apps: dict[str, object] = {}
        self._sqlite_template: Path | None = None
        self._sqlite_count = 0
        self._postgres_ready = False

    def base_env(self, database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(NOT_INHERITED_PREFIXES) and k not in NOT_INHERITED}
        env.update(QUIZ_ENV="production", SECRET_KEY=self.secret_key, DATABASE_URL=database_url,
                   QUESTIONS_DIR=str(self.questions_dir), PYTHONUNBUFFERED="1")
        env.update(extra or {})
        return env

    def flask(self, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=PROJECT_ROOT,
                                env=env, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise ServerError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def _prepare(self, url: str) -> None:
        env = self.base_env(url)
        self.flask(env, "db", "upgrade")
        self.flask(env, "questions", "load")

    def database(self, kind: str) -> str:
        if kind == "sqlite":
            if self._sqlite_template is None:
                self._sqlite_template = self.workdir / "prepared.sqlite3"
                self._prepare(f"sqlite:///{self._sqlite_template}")
            self._sqlite_count += 1
            path = self.workdir / f"db{self._sqlite_count}.sqlite3"
            with sqlite3.connect(self._sqlite_template) as source, sqlite3.connect(path) as target:
                source.backup(target)
            return f"sqlite:///{path}"
        if kind == "postgresql":
            if not self._postgres_ready:
                if not postgres_reachable():
                    raise PostgresUnavailable(f"PostgreSQL is not reachable at {POSTGRES_URL}")
                empty_postgres()
                self._prepare(POSTGRES_URL)
                self._postgres_ready = True
            return POSTGRES_URL
        raise ValueError(kind)

    def server(self, kind: str, *, tls: TLSFiles | None = None, workers: int | None = 3, threads: int | None = 4,
               env: dict[str, str] | None = None, name: str | None = None) -> GunicornServer:
        url = self.database(kind)
        name = name or f"{kind}-{len(self.servers) + 1}"
        server = GunicornServer(self, name, url, self.base_env(url, env), workers, threads, tls)
        self.servers.append(server)
        return server.start()

    def app_for(self, url: str):
        if url not in self._apps:
            self._apps[url] = create_app({
                "QUIZ_ENV": "production", "SECRET_KEY": self.secret_key, "SQLALCHEMY_DATABASE_URI": url,
                "QUESTIONS_DIR": str(self.questions_dir),
            })
        return self._apps[url]

    def close(self) -> None:
        for server in self.servers:
            server.close()
        for app in self._apps.values():
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        if self._postgres_ready:
            empty_postgres()


def postgres_reachable() -> bool:
    try:
        with create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3}).connect():
            return True
    except Exception:
        return False


def empty_postgres() -> None:
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    engine.dispose()
