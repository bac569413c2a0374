"""Cookies a browser gave us, as cookie-jar cookies: from a file, Playwright, FlareSolverr.

``HLTV_COOKIES_FILE`` is what browsers and their extensions export: a ``cookies.txt``
in the Netscape format (seven tab-separated fields a line) or JSON (a list of cookie
objects, or Playwright's ``{"cookies": [...]}``). A file that cannot be read, a line or
entry that is not a cookie, a cookie that has expired or no cookie for the site is an
error before any request. Cookie values are never put in a message: they are
credentials.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from http.cookiejar import Cookie
from pathlib import Path
from typing import Any

from scrapy.exceptions import UsageError

_TRUE_FALSE = {"TRUE": True, "FALSE": False}
_HTTP_ONLY = "#HttpOnly_"
#: Keys browsers and tools use for a cookie's expiry (seconds since the epoch).
_EXPIRY_KEYS = ("expires", "expirationDate", "expiry")


class CookieFileError(UsageError, ValueError):
    """A cookie file that cannot be used: a mistake of the user's, told in one line."""


def make_cookie(entry: dict[str, Any]) -> Cookie:
    """A jar cookie from a browser's cookie object (Playwright's, FlareSolverr's, an
    extension's export): ``name``, ``value``, ``domain``, ``path``, an expiry, ``secure``."""
    name, value, domain = entry["name"], entry["value"], entry["domain"]
    if not isinstance(name, str) or not isinstance(value, str) or not isinstance(domain, str) or not name or not domain:
        raise ValueError("name, value and domain must be text")
    expires = next((entry[k] for k in _EXPIRY_KEYS if entry.get(k) is not None), None)
    if expires is not None:
        expires = int(float(expires))
        if expires <= 0:  # -1 and 0 mean a session cookie
            expires = None
    path = entry.get("path") or "/"
    return Cookie(
        version=0, name=name, value=value, port=None, port_specified=False,
        domain=domain, domain_specified=domain.startswith("."), domain_initial_dot=domain.startswith("."),
        path=path, path_specified=True, secure=bool(entry.get("secure")), expires=expires,
        discard=expires is None, comment=None, comment_url=None, rest={}, rfc2109=False,
    )


def read_cookie_file(path: Path, *, host: str, now: float | None = None) -> list[Cookie]:
    """The cookies in ``path``; CookieFileError when the file is malformed, has expired
    cookies or none for ``host``."""
    prefix = f"HLTV_COOKIES_FILE: {path}"
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CookieFileError(f"{prefix}: cannot read it ({exc.__class__.__name__})") from None
    cookies = _json(text, prefix) if text.lstrip().startswith(("[", "{")) else _netscape(text, prefix)
    if not cookies:
        raise CookieFileError(f"{prefix}: no cookie in it")
    now = time.time() if now is None else now
    for cookie in cookies:
        if cookie.expires is not None and cookie.expires <= now:
            when = datetime.fromtimestamp(cookie.expires, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            raise CookieFileError(
                f"{prefix}: cookie {cookie.name!r} ({cookie.domain}) expired at {when}: export "
                "fresh cookies from the browser, with the User-Agent it runs as"
            )
    if not any(_for_host(cookie, host) for cookie in cookies):
        domains = ", ".join(sorted({c.domain for c in cookies}))
        raise CookieFileError(f"{prefix}: none of its cookies is for {host} (they are for {domains})")
    return cookies


def _netscape(text: str, prefix: str) -> list[Cookie]:
    cookies = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(_HTTP_ONLY):
            line = line[len(_HTTP_ONLY):]
        elif not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) != 7:
            raise CookieFileError(
                f"{prefix} line {number}: expected 7 tab-separated fields (domain, include "
                f"subdomains, path, secure, expiry, name, value), got {len(fields)}"
            )
        domain, subdomains, cookie_path, secure, expires, name, value = fields
        if subdomains.upper() not in _TRUE_FALSE or secure.upper() not in _TRUE_FALSE:
            raise CookieFileError(f"{prefix} line {number}: the 2nd and 4th fields must be TRUE or FALSE")
        if not expires.strip().lstrip("-").isdigit():
            raise CookieFileError(f"{prefix} line {number}: the expiry (5th field) must be a whole number")
        if not domain or not name:
            raise CookieFileError(f"{prefix} line {number}: a cookie needs a domain and a name")
        if _TRUE_FALSE[subdomains.upper()] and not domain.startswith("."):
            domain = "." + domain
        cookies.append(make_cookie({
            "name": name, "value": value, "domain": domain, "path": cookie_path,
            "secure": _TRUE_FALSE[secure.upper()], "expires": int(expires),
        }))
    return cookies


def _json(text: str, prefix: str) -> list[Cookie]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CookieFileError(f"{prefix}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    entries = data.get("cookies") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise CookieFileError(f"{prefix}: expected a list of cookies, or {{\"cookies\": [...]}}")
    cookies = []
    for number, entry in enumerate(entries, start=1):
        try:
            if not isinstance(entry, dict):
                raise TypeError
            cookies.append(make_cookie(entry))
        except (KeyError, TypeError, ValueError):
            raise CookieFileError(
                f"{prefix}: cookie {number} is not a cookie (it needs a name, a value and a domain)"
            ) from None
    return cookies


def _for_host(cookie: Cookie, host: str) -> bool:
    domain = cookie.domain.lstrip(".").lower()
    host = host.lower()
    return host == domain or (cookie.domain_initial_dot and host.endswith("." + domain))
