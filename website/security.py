"""Security headers on every response: a nonce-based CSP without 'unsafe-inline', and friends."""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request


def csp_nonce() -> str:
    """This response's script nonce (one per request, never reused)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str, hosts: tuple[str, ...]) -> str:
    """Scripts run only with this response's nonce ('strict-dynamic' lets a consented tag load
    its own helpers); styles only from our own files; third-party hosts only those the catalog
    names, for the requests, images and frames a consented service makes."""
    third_party = " ".join(hosts)
    frames = third_party or "'none'"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'nonce-{nonce}' 'strict-dynamic' 'self'",
            "style-src 'self'",
            f"img-src 'self' data: {third_party}".rstrip(),
            f"connect-src 'self' {third_party}".rstrip(),
            f"frame-src {frames}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def init_app(app: Flask, hosts: tuple[str, ...]) -> None:
    """Add the headers to every response."""

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = content_security_policy(csp_nonce(), hosts)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        headers["Permissions-Policy"] = (
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"
        )
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if response.mimetype == "text/html":
            # Each page carries a fresh nonce and CSRF token: it must never be served from a cache.
            headers["Cache-Control"] = "no-store"
        elif response.mimetype == "application/json" and "Cache-Control" not in headers:
            # A JSON answer tells one visitor's consent state, receipts or error: no cache may
            # keep it, and one that ignores no-store must at least key it by the cookie. Only a
            # view that serves the same file to everybody (the revision-keyed catalog) says
            # otherwise, explicitly.
            headers["Cache-Control"] = "no-store"
            response.vary.add("Cookie")
        return response
