"""Clearances kept between crawls: one folder per address (``HLTV_BROWSER_PROFILE_DIR``).

A scheduled crawl that starts ten minutes after the last one should not solve the
challenge the last one solved: Cloudflare's ``cf_clearance`` lasts much longer than
that, for the address and the browser that earned it. Each address the crawl goes out
from, the machine's own (``direct``) or a proxy (``proxy-<hash of its label>``), has a
folder of its own, never shared with another address:

- ``browser.json``: the browser's cookies and local storage (Playwright's storage
  state), loaded into that address's browser context and saved when it closes;
- ``plain.json``: the plain path's clearance: its cookie jar, the User-Agent and
  client hints of the browser that earned it, and until when auto mode renders every
  page of the address in the browser.

Cookies are credentials: the folders are the owner's alone (0700), the files 0600,
written whole (a temporary file renamed), and no value is ever logged. They are never
exported nor archived.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from http.cookiejar import Cookie, CookieJar

logger = logging.getLogger(__name__)

BROWSER_STATE = "browser.json"
PLAIN_STATE = "plain.json"
_FORMAT = 1


def address_folder_name(proxy_label: str | None) -> str:
    """The folder of an address: ``direct``, or ``proxy-`` and a hash of the proxy's
    label (a label may hold a user name: it stays out of the file system)."""
    if proxy_label is None:
        return "direct"
    return "proxy-" + hashlib.sha256(proxy_label.encode()).hexdigest()[:16]


@dataclass
class PlainState:
    """What the plain path of one address keeps between crawls."""

    cookies: list[dict[str, Any]] = field(default_factory=list)
    user_agent: str | None = None
    hints: dict[str, str] = field(default_factory=dict)
    #: epoch seconds until which auto mode renders every page of the address
    render_until: float = 0.0


class Profiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, proxy_label: str | None) -> Path:
        """The address's folder (made, owner only, when something is saved in it)."""
        return self.root / address_folder_name(proxy_label)

    def browser_state(self, proxy_label: str | None) -> Path:
        return self.folder(proxy_label) / BROWSER_STATE

    def load_plain(self, proxy_label: str | None, *, now: float | None = None) -> PlainState:
        """The address's saved clearance, its expired cookies left out; an empty state
        when there is none or it cannot be read (a damaged file costs one solve)."""
        path = self.root / address_folder_name(proxy_label) / PLAIN_STATE
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return PlainState()
        except (OSError, ValueError):
            logger.warning("Could not read the saved clearance %s: solving again if challenged", path)
            return PlainState()
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            return PlainState()
        now = time.time() if now is None else now
        cookies = [
            c for c in data.get("cookies") or () if isinstance(c, dict)
            and (c.get("expires") is None or float(c["expires"]) > now)
        ]
        hints = data.get("hints") if isinstance(data.get("hints"), dict) else {}
        return PlainState(
            cookies=cookies,
            user_agent=data.get("user_agent") if isinstance(data.get("user_agent"), str) else None,
            hints={str(k): str(v) for k, v in hints.items()},
            render_until=float(data.get("render_until") or 0.0),
        )

    def save_plain(self, proxy_label: str | None, state: PlainState) -> None:
        path = self.folder(proxy_label) / PLAIN_STATE
        write_private(path, json.dumps({
            "format": _FORMAT,
            "saved_at": time.time(),
            "cookies": state.cookies,
            "user_agent": state.user_agent,
            "hints": state.hints,
            "render_until": state.render_until,
        }, indent=1))


def jar_cookies(jar: CookieJar) -> list[dict[str, Any]]:
    """A cookie jar's cookies as the cookie objects ``make_cookie`` reads. Session cookies
    too: a clearance set by the challenge's script may have no expiry, and a browser
    that restores its session keeps them; one the site no longer takes costs a solve."""
    return [_cookie_dict(cookie) for cookie in jar]


def _cookie_dict(cookie: Cookie) -> dict[str, Any]:
    return {
        "name": cookie.name, "value": cookie.value, "domain": cookie.domain,
        "path": cookie.path, "secure": cookie.secure, "expires": cookie.expires,
    }


def write_private(path: Path, text: str) -> None:
    """Write ``path`` whole, readable by its owner only, in an address folder of a
    profiles folder both made owner-only."""
    _private_dir(path.parent.parent)
    _private_dir(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _private_dir(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o777 != 0o700:
        folder.chmod(0o700)
