"""A real OpenID Connect sign-in, in headless Chromium: Streamlit's st.login
against the `oidc-provider` library (tests/oidc/server.mjs) running under Node
on 127.0.0.1, with the role taken from the provider's `roles` claim."""

import shutil
import subprocess

import pytest

from reliefhub import REPO_DIR
from tests.test_browser import (  # noqa: F401 (browser and real_db are fixtures)
    Server,
    answers,
    browser,
    free_port,
    real_db,
    save,
)
from tests.test_browser_sign_in import go_to, visit

pytestmark = pytest.mark.browser
PROVIDER_DIR = REPO_DIR / "tests" / "oidc"

if not (PROVIDER_DIR / "node_modules" / "oidc-provider").exists():
    pytest.skip("run `npm ci` in tests/oidc (.ci/run does)", allow_module_level=True)


def secrets_file(folder, provider_port: int):
    path = folder / "secrets.toml"
    path.write_text(f"""
[auth]
redirect_uri = "http://127.0.0.1:{{port}}/oauth2callback"
cookie_secret = "a test cookie secret that is long enough to sign"
client_id = "reliefhub"
client_secret = "reliefhub-test-secret"
server_metadata_url = "http://127.0.0.1:{provider_port}/.well-known/openid-configuration"
# Streamlit asks for prompt=select_account unless told; this provider knows login and consent.
client_kwargs = {{ prompt = "login" }}

[reliefhub_sign_in]
role_claim = "roles"
[reliefhub_sign_in.roles]
"relief-staff" = "staff"
""")
    return path


class Provider:
    """tests/oidc/server.mjs on a free port, for one redirect URI."""

    def __init__(self, port: int, redirect_uri: str):
        self.process = subprocess.Popen(
            ["node", "server.mjs", str(port), redirect_uri],
            cwd=PROVIDER_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        if not answers(f"http://127.0.0.1:{port}/.well-known/openid-configuration", within=30):
            self.stop()
            raise RuntimeError("the OpenID provider did not start:\n" + self.process.stdout.read().decode())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def test_sign_in_through_a_real_openid_provider_takes_the_role_from_a_claim(browser, real_db, tmp_path):  # noqa: F811
    db = tmp_path / "oidc.duckdb"
    shutil.copy(real_db, db)
    provider_port = free_port()
    server = Server(db, STREAMLIT_SECRETS_FILES=str(secrets_file(tmp_path, provider_port)))
    provider = Provider(provider_port, f"{server.base}/oauth2callback")
    try:
        page = visit(browser, server, "/sign_in")
        page.get_by_role("button", name="Sign in with the identity provider").click()
        # The provider's own pages: its development login, then consent.
        page.locator("input[name=login]").wait_for(timeout=30_000)
        page.fill("input[name=login]", "jane")
        page.fill("input[name=password]", "any password")
        page.locator("button[type=submit]").click()
        page.locator("button[type=submit]", has_text="Continue").click()
        page.wait_for_url(f"{server.base}/**", timeout=30_000)
        page.get_by_text("Signed in as Test jane (staff)").wait_for(timeout=60_000)
        go_to(page, "Record")
        page.get_by_role("tab", name="New request").wait_for(timeout=30_000)
        save(page, "oidc-signed-in-staff")
        page.close()
    finally:
        provider.stop()
        server.stop()


def test_a_provider_that_does_not_answer_is_reported_and_reading_goes_on(browser, real_db, tmp_path):  # noqa: F811
    db = tmp_path / "oidc.duckdb"
    shutil.copy(real_db, db)
    server = Server(db, STREAMLIT_SECRETS_FILES=str(secrets_file(tmp_path, free_port())))  # nobody listens
    try:
        page = visit(browser, server, "/sign_in")
        page.get_by_text("The identity provider does not answer").wait_for(timeout=30_000)
        assert page.get_by_role("button", name="Sign in with the identity provider").count() == 0
        page.get_by_role("textbox", name="Account").wait_for()  # local accounts still work
        go_to(page, "Overview")
        page.get_by_test_id("stMetric").first.wait_for(timeout=60_000)
        page.close()
    finally:
        server.stop()


def test_a_malformed_auth_section_stops_the_server_naming_the_key(browser, real_db, tmp_path):  # noqa: F811
    db = tmp_path / "oidc.duckdb"
    shutil.copy(real_db, db)
    secrets = secrets_file(tmp_path, free_port())
    secrets.write_text(secrets.read_text().replace('client_id = "reliefhub"\n', ""))
    server = Server(db, STREAMLIT_SECRETS_FILES=str(secrets))
    try:
        page = browser.new_page()
        page.goto(server.base + "/")
        server.process.wait(timeout=60)
        output = server.process.stdout.read().decode()
        assert "Relief Hub cannot start: .streamlit/secrets.toml [auth] client_id is missing" in output
        page.close()
    finally:
        if server.process.poll() is None:
            server.stop()
