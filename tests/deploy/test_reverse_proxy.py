"""The README's nginx block, run as printed (only addresses, paths and ports filled in) in front of
gunicorn with PROXY_HOPS=1: a patient signs in from a printed link and answers over HTTPS through it,
the app sees https and the public host (HSTS, strict CSRF check pass), and neither nginx's access log
nor gunicorn's holds the code."""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.deploy.conftest import missing
from tests.deploy.http import Browser, form_posting_to, forms
from tests.deploy.server import PROJECT_ROOT

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def readme_nginx_block() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"```nginx\n(.*?)```", readme, re.S).group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def proxied(deploy, tls_files, tmp_path_factory):
    if not Path(NGINX).exists():
        missing("the reverse-proxy test needs nginx (make nginx)")
    folder = tmp_path_factory.mktemp("nginx")
    with deploy.server("sqlite", workers=2, threads=2, env={"PROXY_HOPS": "1"}, name="behind-nginx") as app:
        port = free_port()
        block = readme_nginx_block()
        for old, new in [
            ("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
            ("listen 80;", f"listen 127.0.0.1:{free_port()};"),
            ("/etc/ssl/quiz.pem", str(tls_files.cert)),
            ("/etc/ssl/quiz.key", str(tls_files.key)),
            ("/var/log/nginx/quiz.log", str(folder / "access.log")),
            ("http://127.0.0.1:8000", app.url),
        ]:
            assert old in block, f"the README's nginx block no longer has {old!r}"
            block = block.replace(old, new)
        temp = "".join(f"{kind}_temp_path {folder / kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (folder / "nginx.conf").write_text(
            f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\nevents {{}}\n"
            f"http {{\n{temp}{block}\n}}\n"
        )
        nginx = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        url = f"https://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if Browser(url, tls_files.client_context(), timeout=2).get("/healthz").status == 200:
                    break
            except OSError:
                pass
            if nginx.poll() is not None or time.monotonic() > deadline:
                nginx.kill()
                pytest.fail(f"nginx did not come up:\n{nginx.stdout.read().decode()}\n"
                            f"{(folder / 'error.log').read_text() if (folder / 'error.log').exists() else ''}")
            time.sleep(0.1)
        try:
            yield app, url, tls_files.client_context(), folder / "access.log"
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


def test_a_patient_answers_through_the_documented_proxy(proxied):
    app, url, context, nginx_log = proxied
    module_id = app.ready_modules()[0]
    (assignment_id, code), = app.new_assignments(1, [module_id])
    browser = Browser(url, context)

    link_page = browser.get(f"/start/{code}")
    assert link_page.status == 200
    assert link_page.headers["Strict-Transport-Security"].startswith("max-age=")
    start = next(f for f in forms(link_page.text) if "code" in f.fields)
    assert start.fields["code"] == code
    signed_in = browser.post(start.action, start.fields, headers={"Referer": f"{url}/start/{code}"})
    assert signed_in.status == 303, signed_in.text[:300]

    card = browser.get(f"/quiz/{module_id}")
    form = form_posting_to(card.text, "/answer")
    answered = browser.post(form.action, {**form.fields, "choice": form.choices[0]},
                            headers={"Referer": f"{url}/quiz/{module_id}"})
    assert answered.status == 303
    assert [a.step for a in app.answers([assignment_id])] == [0]

    time.sleep(0.2)  # nginx writes its access log line after the response
    logs = {"nginx": nginx_log.read_text(), "gunicorn": app.log()}
    for name, text in logs.items():
        assert code not in text and code.replace("-", "") not in text, f"the code is in the {name} log"
    assert "/start/[code]" in logs["nginx"] and "/start/[code]" in logs["gunicorn"]
