"""Who may use the GUI, and from which page.

- Loopback (default): only requests whose Host is this loopback address (no DNS rebinding).
- Bound elsewhere: every request needs the access token, as `Authorization: Bearer <token>` or the
  HttpOnly cookie set by opening `/?token=<token>` once.
- State-changing requests (POST) need the page's CSRF token in `X-CSRF-Token`, JSON content, and, when the
  browser sends one, an Origin equal to ours.
- Every response forbids inline scripts and framing (Content-Security-Policy).
"""
import hmac
import secrets

from aiohttp import web

TOKEN_COOKIE = "rs_token"
CSRF_HEADER = "X-CSRF-Token"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def error(status, message):
    return web.json_response({"error": message}, status=status, headers=SECURITY_HEADERS)


class Guard:
    def __init__(self, settings, port):
        self.settings = settings
        self.port = port
        self.csrf = secrets.token_urlsafe(32)

    def allowed_hosts(self):
        names = set(LOOPBACK_NAMES) | {self.settings.host if ":" not in self.settings.host
                                       else "[%s]" % self.settings.host}
        return set("%s:%d" % (n, self.port) for n in names)

    def token_ok(self, request):
        token = self.settings.token
        if not token:
            return True
        header = request.headers.get("Authorization", "")
        given = header[len("Bearer "):] if header.startswith("Bearer ") else request.cookies.get(TOKEN_COOKIE, "")
        return hmac.compare_digest(given.encode(), token.encode())

    def check(self, request, state_changing):
        """None if the request may go on, else the error response."""
        if self.settings.loopback and request.host not in self.allowed_hosts():
            return error(421, "this GUI answers only to http://127.0.0.1:%d/ (Host %r refused)."
                         % (self.port, request.host[:80]))
        if not self.token_ok(request):
            return error(401, "an access token is required: open the GUI once as /?token=<token>, or send "
                              "Authorization: Bearer <token>.")
        if state_changing:
            origin = request.headers.get("Origin")
            if origin is not None and origin != "%s://%s" % (request.scheme, request.host):
                return error(403, "cross-site request refused (Origin %s is not this GUI)." % origin[:80])
            if not hmac.compare_digest(request.headers.get(CSRF_HEADER, "").encode(), self.csrf.encode()):
                return error(403, "missing or wrong %s header: reload the GUI page and try again." % CSRF_HEADER)
            if request.content_type != "application/json":
                return error(415, "send the request body as JSON (Content-Type: application/json).")
        return None

    @web.middleware
    async def middleware(self, request, handler):
        if request.method not in ("GET", "HEAD", "POST"):
            return error(405, "method %s is not allowed here." % request.method)
        if self.settings.token and request.path == "/" and "token" in request.query:
            return self._login(request)
        refused = self.check(request, request.method == "POST")
        if refused is not None:
            return refused
        response = await handler(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _login(self, request):
        """Trade ?token= for an HttpOnly cookie and drop it from the address bar."""
        given = request.query.get("token", "")
        if not hmac.compare_digest(given.encode(), self.settings.token.encode()):
            return error(401, "wrong access token.")
        response = web.Response(status=302, headers=dict(SECURITY_HEADERS, Location="/"))
        response.set_cookie(TOKEN_COOKIE, given, httponly=True, samesite="Strict", path="/")
        return response
