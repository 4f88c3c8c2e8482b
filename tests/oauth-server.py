#!/usr/bin/env python3
"""A small OAuth2 authorization server for the tests (python3 standard library only).

Started by tests/mail-stack.sh (start-oauth) on 127.0.0.1, beside a Dovecot whose oauth2
passdb asks /introspect about every bearer token it is shown.

  GET  /.well-known/openid-configuration   discovery (authorization and token endpoints)
  GET  /authorize      authorization code + PKCE (S256 only); consents at once for the
                       user named by login_hint and redirects to redirect_uri (loopback only)
  POST /token          grant_type=authorization_code (code_verifier checked) or refresh_token;
                       access tokens live --ttl seconds (per user: /admin/ttl)
  POST /introspect     token=<access token> -> {"active": ..., "username": ...} (RFC 7662)
  POST /admin/revoke?user=U    revoke U's grants: refresh answers invalid_grant, tokens inactive
  POST /admin/expire?user=U    U's access tokens expire now
  POST /admin/ttl?user=U&seconds=N
  POST /admin/deny?user=U      the next authorize for U is declined (error=access_denied)
  GET  /admin/stats?user=U     counts: authorize, code and refresh grants, introspections
  GET  /admin/tokens?user=U    U's refresh and access tokens (to look for them in files and logs)
Tokens are random and kept in memory only; nothing is logged but request counts.
"""

import argparse
import base64
import hashlib
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

LOCK = threading.Lock()
CODES = {}  # code -> dict(user, client_id, redirect_uri, challenge)
GRANTS = {}  # refresh token -> dict(user, revoked)
TOKENS = {}  # access token -> dict(user, expires, grant)
TTL = {}  # user -> seconds
DENY = set()
STATS = {}  # user -> counters
DEFAULT_TTL = 300


def count(user, what):
    STATS.setdefault(user, {}).setdefault(what, 0)
    STATS[user][what] += 1


def loopback_redirect(uri):
    u = urlparse(uri)
    return u.scheme == "http" and u.hostname in ("127.0.0.1", "localhost", "::1")


def s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def issue(user, grant):
    token = secrets.token_urlsafe(24)
    ttl = TTL.get(user, DEFAULT_TTL)
    TOKENS[token] = {"user": user, "expires": time.time() + ttl, "grant": grant}
    return token, ttl


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # no request lines (they would carry codes)
        pass

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}

    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        base = f"http://{self.headers.get('Host')}"
        if url.path == "/.well-known/openid-configuration":
            return self.reply(200, {
                "issuer": base,
                "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/token",
                "introspection_endpoint": base + "/introspect",
                "code_challenge_methods_supported": ["S256"],
            })
        if url.path == "/authorize":
            return self.authorize(q)
        if url.path == "/admin/stats":
            with LOCK:
                return self.reply(200, STATS.get(q.get("user", ""), {}))
        if url.path == "/admin/tokens":
            # For tests that look for the tokens where they must never be (files, logs).
            with LOCK:
                user = q.get("user", "")
                return self.reply(200, {
                    "refresh": [r for r, g in GRANTS.items() if g["user"] == user],
                    "access": [a for a, t in TOKENS.items() if t["user"] == user],
                })
        return self.reply(404, {"error": "not_found"})

    def authorize(self, q):
        redirect = q.get("redirect_uri", "")
        if not loopback_redirect(redirect):
            return self.reply(400, {"error": "invalid_request", "error_description": "redirect_uri must be a loopback http URL"})
        user = q.get("login_hint", "")
        state = q.get("state", "")
        with LOCK:
            count(user, "authorize")
            if user in DENY:
                DENY.discard(user)
                params = {"error": "access_denied", "error_description": "the user declined", "state": state}
            elif q.get("response_type") != "code" or q.get("code_challenge_method") != "S256" or not q.get("code_challenge") or not user:
                params = {"error": "invalid_request", "error_description": "code flow with S256 PKCE and login_hint required", "state": state}
            else:
                code = secrets.token_urlsafe(16)
                CODES[code] = {"user": user, "client_id": q.get("client_id", ""), "redirect_uri": redirect, "challenge": q["code_challenge"]}
                params = {"code": code, "state": state}
        sep = "&" if "?" in redirect else "?"
        self.send_response(302)
        self.send_header("Location", redirect + sep + urlencode(params))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        f = self.form()
        with LOCK:
            if url.path == "/token":
                return self.token(f)
            if url.path == "/introspect":
                token = f.get("token", "")
                t = TOKENS.get(token)
                active = bool(t) and t["expires"] > time.time() and not GRANTS.get(t["grant"], {}).get("revoked", False)
                user = t["user"] if t else ""
                count(user, "introspect_active" if active else "introspect_inactive")
                return self.reply(200, {"active": True, "username": user} if active else {"active": False})
            user = q.get("user", "")
            if url.path == "/admin/revoke":
                for g in GRANTS.values():
                    if g["user"] == user:
                        g["revoked"] = True
                return self.reply(200, {"ok": True})
            if url.path == "/admin/expire":
                for t in TOKENS.values():
                    if t["user"] == user:
                        t["expires"] = 0
                return self.reply(200, {"ok": True})
            if url.path == "/admin/ttl":
                TTL[user] = int(q.get("seconds", DEFAULT_TTL))
                return self.reply(200, {"ok": True})
            if url.path == "/admin/deny":
                DENY.add(user)
                return self.reply(200, {"ok": True})
        return self.reply(404, {"error": "not_found"})

    def token(self, f):
        kind = f.get("grant_type")
        if kind == "authorization_code":
            c = CODES.pop(f.get("code", ""), None)
            if not c:
                return self.reply(400, {"error": "invalid_grant", "error_description": "unknown or used code"})
            count(c["user"], "code_grant")
            if c["redirect_uri"] != f.get("redirect_uri") or c["client_id"] != f.get("client_id"):
                return self.reply(400, {"error": "invalid_grant", "error_description": "redirect_uri or client_id differ"})
            if s256(f.get("code_verifier", "")) != c["challenge"]:
                return self.reply(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
            refresh = secrets.token_urlsafe(24)
            GRANTS[refresh] = {"user": c["user"], "revoked": False}
            access, ttl = issue(c["user"], refresh)
            return self.reply(200, {"access_token": access, "token_type": "Bearer", "expires_in": ttl, "refresh_token": refresh})
        if kind == "refresh_token":
            refresh = f.get("refresh_token", "")
            g = GRANTS.get(refresh)
            count(g["user"] if g else "", "refresh_grant")
            if not g or g["revoked"]:
                return self.reply(400, {"error": "invalid_grant", "error_description": "the grant was revoked"})
            access, ttl = issue(g["user"], refresh)
            return self.reply(200, {"access_token": access, "token_type": "Bearer", "expires_in": ttl})
        return self.reply(400, {"error": "unsupported_grant_type"})


def main():
    global DEFAULT_TTL
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ttl", type=int, default=DEFAULT_TTL)
    a = p.parse_args()
    DEFAULT_TTL = a.ttl
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    print(f"oauth-server on 127.0.0.1:{a.port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
