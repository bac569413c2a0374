"""A local stand-in for a challenge that looks for the marks of an automated browser.

:class:`DetectorGate` is :class:`ClearanceGate` whose challenge page runs, in the page's
own script, the probes a page can run (all public knowledge), and sets the clearance
cookie only when none fires:

- ``webdriver``: ``navigator.webdriver`` is true (``--enable-automation``);
- ``console``: a DevTools client listens to the console (the ``Runtime`` domain is on):
  an object logged with ``console.debug`` has a getter that only a client serialising
  it for its console events would call;
- ``main_world``: code other than the page's reads the page's own world (its
  ``document.title``, ``window._cf_chl_opt``): an automation evaluating in it;
- ``headless_ua`` / ``headless_hint``: "Headless" in the User-Agent or its client hints;
- ``webgl``: no WebGL context or no renderer;
- ``plugins``, ``languages``: none; ``window_chrome``: no ``window.chrome``;
- ``screen``: a window bigger than its screen (an emulated viewport and screen).

Every run of the probes is reported to the server (``GET /__probes?fired=...``, kept in
:attr:`DetectorGate.reports`), and so is a probe that fires later. With
``bind_to_client``, a clearance holds only for the kind of client that earned it, as a
clearance bound to a TLS fingerprint does: a request from curl_cffi (which asks to
upgrade to HTTP/2 on a plain connection, ``HTTP2-Settings``) is another client than
the browser, so the site wants a browser for every page.
"""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

from tests.support.server import ClearanceGate

PROBES = ("webdriver", "console", "main_world", "headless_ua", "headless_hint", "webgl",
          "plugins", "languages", "window_chrome", "screen")

_PAGE = """<!DOCTYPE html><html><head><title>Just a moment...</title></head>
<body><p>Checking if the site connection is secure</p><script>
(function () {
  var fired = [];
  function report(names, extra) {
    try {
      fetch("/__probes?fired=" + encodeURIComponent(names.join(",")) + (extra || ""),
            {keepalive: true, cache: "no-store"});
    } catch (e) {}
  }
  function late(name) {
    return function () { if (fired.indexOf(name) < 0) { fired.push(name); report([name]); } };
  }
  // the page's own world, read by someone else
  var chlOpt = {cType: "managed"};
  var lateMainWorld = late("main_world");
  Object.defineProperty(window, "_cf_chl_opt", {get: function () { lateMainWorld(); return chlOpt; }});
  var title = Object.getOwnPropertyDescriptor(Document.prototype, "title");
  Object.defineProperty(document, "title", {
    get: function () { lateMainWorld(); return title.get.call(this); },
    set: function (value) { title.set.call(this, value); }
  });
  if (navigator.webdriver) fired.push("webdriver");
  var listened = false;
  var bait = new Error("probe");
  Object.defineProperty(bait, "stack", {configurable: false, get: function () { listened = true; return ""; }});
  var bait2 = {};
  Object.defineProperty(bait2, "id", {enumerable: true, get: function () { listened = true; return 0; }});
  console.debug(bait);
  console.debug(bait2);
  if (listened) fired.push("console");
  if (/headless/i.test(navigator.userAgent)) fired.push("headless_ua");
  var brands = (navigator.userAgentData && navigator.userAgentData.brands) || [];
  if (brands.some(function (b) { return /headless/i.test(b.brand); })) fired.push("headless_hint");
  var renderer = "";
  try {
    var gl = document.createElement("canvas").getContext("webgl");
    var info = gl && gl.getExtension("WEBGL_debug_renderer_info");
    renderer = gl ? String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : "";
  } catch (e) {}
  if (!renderer) fired.push("webgl");
  if (!navigator.plugins || navigator.plugins.length === 0) fired.push("plugins");
  if (!navigator.languages || navigator.languages.length === 0) fired.push("languages");
  if (!window.chrome) fired.push("window_chrome");
  if (!innerWidth || outerWidth > screen.width || outerHeight > screen.height) fired.push("screen");
  report(fired, "&run=1&renderer=" + encodeURIComponent(renderer));
  if (fired.length) return;  // a bot: no clearance
  setTimeout(function () {
    if (fired.length) return;
    document.cookie = "%(cookie)s; path=/";
    location.reload();
  }, 400);
})();
</script></body></html>"""


class DetectorGate(ClearanceGate):
    report_path = "/__probes"
    sees_headers = True

    def __init__(self, *, bind_to_client: bool = False) -> None:
        super().__init__()
        self.bind_to_client = bind_to_client
        self.runs = 0  # challenge pages whose probes ran
        self.fired: set[str] = set()  # every probe that fired, on any page
        self.renderers: set[str] = set()
        self._report_lock = threading.Lock()

    def challenge(self, user_agent: str, headers: dict[str, str] | None = None) -> bytes:
        with self._lock:
            self.challenges += 1
        token = self.issue(user_agent, headers)
        return (_PAGE % {"cookie": f"cf_clearance={token}"}).encode()

    def report(self, path: str, headers: dict[str, str]) -> None:
        query = parse_qs(urlsplit(path).query)
        names = {name for name in ",".join(query.get("fired", [""])).split(",") if name}
        with self._report_lock:
            self.fired |= names
            if query.get("run"):
                self.runs += 1
                self.renderers.update(query.get("renderer", []))

    def _holder(self, user_agent: str, headers: dict[str, str]) -> object:
        if not self.bind_to_client:
            return user_agent
        return user_agent, "http2-settings" in headers
