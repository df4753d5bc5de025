"""The README's nginx configuration, run for real in front of the app: security headers on every
answer, Streamlit's internal endpoints unreachable, and the app working in chromium under the
Content-Security-Policy (no violation reported). Needs Debian's nginx (`apt-get install nginx`)."""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser import (
    BROWSER_PASSWORD,
    BROWSER_USER,
    ROOT,
    browser_required,
    free_port,
    needs_chromium,
    start_app,
    wait_app_idle,
    wait_for_session_cookie,
)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    # .ci/run installs nginx: there a missing nginx fails the run instead of skipping these tests
    pytest.mark.skipif(not Path(NGINX).exists() and not browser_required(), reason="no nginx (apt-get install nginx)"),
]


def readme_nginx_server() -> str:
    """The first nginx `server` block of the README (Serving the office LAN)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```nginx\n(server \{.*?\n\})\n```", text, re.S)
    assert block, "the README has no nginx server block"
    return block.group(1)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """The app behind nginx as the README configures it: (https url, app server)."""
    from app.cli import main

    work = tmp_path_factory.mktemp("proxy")
    db_path = work / "w.duckdb"
    assert main(["--db", str(db_path), "init"]) == 0
    os.environ["WUYE_TRUSTED_PROXIES"] = "127.0.0.1"  # as the README tells to set it
    try:
        app = start_app(db_path, work / "app.log")
    finally:
        os.environ.pop("WUYE_TRUSTED_PROXIES")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(work / "key.pem"),
                    "-out", str(work / "cert.pem")], check=True, capture_output=True)
    port = free_port()
    server = (readme_nginx_server()
              .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl;")
              .replace("/etc/ssl/wuye/fullchain.pem", str(work / "cert.pem"))
              .replace("/etc/ssl/wuye/privkey.pem", str(work / "key.pem"))
              .replace("127.0.0.1:8501", f"127.0.0.1:{app.port}"))
    (work / "nginx.conf").write_text(
        f"pid {work}/nginx.pid;\nerror_log {work}/error.log;\nevents {{}}\nhttp {{\n"
        f"include /etc/nginx/mime.types;\naccess_log {work}/access.log;\n"
        f"client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;\n"
        f"fastcgi_temp_path {work}/fcgi; uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;\n"
        f"{server}\n}}\n")
    proc = subprocess.Popen([NGINX, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"],
                            stderr=subprocess.PIPE)
    url = f"https://127.0.0.1:{port}"
    try:
        for _ in range(100):
            if proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {proc.stderr.read().decode()}")
            try:
                fetch(url + "/_stcore/health")
                break
            except OSError:
                time.sleep(0.1)
        yield url, app
    finally:
        proc.terminate()
        proc.wait(10)
        app.stop()


def fetch(url: str) -> tuple[int, dict[str, str], str]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as resp:
            return resp.status, dict(resp.headers), resp.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode(errors="replace")


def test_security_headers_on_pages_and_errors(proxied):
    url, _ = proxied
    for path in ("/", "/_stcore/health", "/no-such-page/x.js"):
        _, headers, _ = fetch(url + path)
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, path
        assert "'unsafe-inline'" not in csp.split("style-src")[0]  # no inline or eval'd script
        assert "'unsafe-eval'" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
    assert fetch(url + "/_stcore/health")[0] == 200  # the browser's reconnect check goes through


def test_internal_endpoints_are_not_reachable_from_outside(proxied):
    url, app = proxied
    assert fetch(app.url + "/_stcore/metrics")[0] == 200  # there, on the machine itself
    for path in ("/_stcore/metrics", "/_stcore/metrics?x=1", "/_stcore/%6detrics", "//_stcore/metrics",
                 "/_stcore/agent/openapi.json",
                 "/_stcore/agent/mcp", "/_stcore/script-health-check"):
        assert fetch(url + path)[0] == 404, path


def test_the_app_works_under_the_policy_without_violations(proxied, chromium):
    url, _ = proxied
    context = chromium.new_context(ignore_https_errors=True, locale="zh-CN",
                                   viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    try:
        page.goto(url + "/")
        page.get_by_label("用户名").fill(BROWSER_USER)
        page.get_by_label("密码").fill("wrong-password-1")
        page.get_by_role("button", name="登录", exact=True).click()
        page.get_by_text("用户名或密码不正确").wait_for()
        page.get_by_label("密码").fill(BROWSER_PASSWORD)
        page.get_by_role("button", name="登录", exact=True).click()
        page.get_by_text("自上次登录以来有 1 次失败的登录尝试").wait_for()
        page.get_by_role("button", name="知道了，继续").click()
        page.get_by_role("button", name="退出登录").wait_for()
        wait_app_idle(page)
        cookie = wait_for_session_cookie(page)  # set by the server through the proxy
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        assert "wuye_session" not in page.evaluate("document.cookie")  # no script can read it
        page.reload()  # a reload stays signed in
        page.get_by_role("button", name="退出登录").wait_for()
    finally:
        context.close()
    violations = [m for m in messages if "Content Security Policy" in m]
    assert not violations, violations
