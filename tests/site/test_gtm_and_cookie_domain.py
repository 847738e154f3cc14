"""Google Tag Manager as a catalog service, and one decision shared across subdomains."""

from __future__ import annotations

import re

import pytest

from tests.conftest import post_choice as post_on_localhost
from website import create_app
from website.consent.catalog import CatalogError, load_catalog
from website.settings import PACKAGE_DIR
from website.store import upgrade

SHIPPED = PACKAGE_DIR / "consent" / "catalog.toml"


def test_gtm_container_is_inert_until_consent_with_consent_mode_defaults_first(client):
    html = client.get("/").get_data(as_text=True)
    defaults = html.index('gtag("consent", "default"')
    container = re.search(
        r'<script type="text/plain" data-consent="statistics" data-service="gtm" '
        r'data-src="https://www.googletagmanager.com/gtm.js\?id=GTM-EXAMPLE1"', html)
    assert container and defaults < container.start()
    assert ' src="https://www.googletagmanager.com/gtm.js' not in html  # nothing live
    post_on_localhost(client, {"categories": {}, "services": {"gtm": True}})
    html = client.get("/").get_data(as_text=True)
    assert '<script nonce="' in html
    assert re.search(r'<script nonce="[^"]+" src="https://www.googletagmanager.com/gtm.js\?id='
                     r'GTM-EXAMPLE1" async>', html)
    assert '"gtm.start"' in html
    # Consent to the container grants no Consent Mode type by itself.
    update = re.search(r'gtag\("consent", "update", (\{.*?\})\);', html).group(1)
    assert '"analytics_storage": "denied"' in update and '"ad_storage": "denied"' in update


def test_gtm_container_id_is_checked_and_named(tmp_path):
    source = SHIPPED.read_text(encoding="utf-8")
    broken = tmp_path / "catalog.toml"
    broken.write_text(source.replace('container_id = "GTM-EXAMPLE1"', 'container_id = "UA-1"'),
                      encoding="utf-8")
    with pytest.raises(CatalogError, match=r"line \d+: \[services.gtm\] tag: .*GTM-AB12CD3"):
        load_catalog(broken)


@pytest.fixture
def shared_app(tmp_path):
    upgrade(f"sqlite:///{tmp_path / 'receipts.db'}")
    return create_app({
        "TESTING": True, "SECRET_KEY": "shared-domain-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'receipts.db'}",
        "CONSENT_COOKIE_DOMAIN": "site.localtest",
    })


def post_choice(client, body, path="/consent"):
    """POST JSON as banner.js does, on the host the client was given (``client.host``)."""
    base = f"http://{getattr(client, 'host', 'localhost')}"
    page = client.get("/", base_url=base).get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    return client.post(path, json=body, base_url=base, headers={"X-CSRFToken": token})


def set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def test_decision_cookie_lives_on_the_shared_domain(shared_app):
    client = shared_app.test_client()
    client.host = "a.site.localtest"
    response = post_choice(client, {"categories": {"statistics": True}})
    assert response.status_code == 200
    cookies = set_cookies(response)
    shared = [c for c in cookies if c.startswith("consent=") and "Max-Age=0" not in c]
    assert len(shared) == 1 and "Domain=site.localtest" in shared[0]
    # A host-only cookie from before is expired so it cannot shadow the shared one.
    assert any(c.startswith("consent=;") and "Domain" not in c for c in cookies)


def test_other_hosts_keep_a_host_only_cookie(shared_app):
    client = shared_app.test_client()
    client.host = "elsewhere.example"
    response = post_choice(client, {"categories": {}})
    (cookie,) = [c for c in set_cookies(response) if c.startswith("consent=")]
    assert "Domain" not in cookie


def test_withdrawal_also_expires_refused_cookies_on_the_shared_domain(shared_app):
    client = shared_app.test_client()
    client.host = "b.site.localtest"
    post_choice(client, {"categories": {"statistics": True}})
    client.set_cookie("_ga", "GA1.1.1", domain="site.localtest")
    response = post_choice(client, {"method": "banner"}, path="/consent/withdraw")
    expired = [c for c in set_cookies(response) if c.startswith("_ga=")]
    assert any("Domain=site.localtest" in c for c in expired)
    assert any("Domain" not in c for c in expired)  # host-only too


def test_no_domain_by_default(client):
    client.host = "a.site.localtest"
    (cookie,) = [c for c in set_cookies(post_choice(client, {"categories": {}}))
                 if c.startswith("consent=")]
    assert "Domain" not in cookie

