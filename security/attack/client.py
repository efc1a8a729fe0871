"""An HTTP client that behaves like a browser behind the TLS proxy, and the HTML forms it reads.

Standard library only (http.client, html.parser), so the attacker needs nothing the portal does
not ship. Redirects are never followed silently: open-redirect checks read `Location` themselves.
"""

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import struct
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit

TIMEOUT = 30  # seconds; a request that takes longer is counted as a server error


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes
    seconds: float
    path: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def server_error(self) -> bool:
        return self.status >= 500 or self.status == 0


@dataclass
class Field:
    name: str
    kind: str  # input type, "textarea" or "select"
    value: str = ""
    options: list = field(default_factory=list)


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: list

    def values(self) -> dict:
        """What a browser would send untouched: hidden and filled values, a select's first option,
        checked boxes."""
        data = {}
        for f in self.fields:
            if f.kind == "select":
                data[f.name] = f.value or next((o for o in f.options if o), "")
            elif f.kind in ("checkbox", "radio", "pressed"):
                if f.value:
                    data.setdefault(f.name, f.value)
            elif f.kind not in ("submit", "button", "image", "reset", "file"):
                data.setdefault(f.name, f.value)
        return data

    def text_fields(self) -> list:
        return [f for f in self.fields if f.kind in TEXT_KINDS]


TEXT_KINDS = {"text", "textarea", "search", "email", "url", "tel", ""}


class FormParser(HTMLParser):
    """Every <form> with its <input>, <textarea> and <select>, and every same-site link."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.page, a["href"]))
        elif tag == "form":
            self._form = Form(page=self.page, action=urljoin(self.page, a.get("action") or self.page),
                              method=(a.get("method") or "get").lower(), fields=[])
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            checked = "checked" in a
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            self._form.fields.append(Field(a["name"], kind, value if kind not in ("checkbox", "radio") or checked
                                           else ""))
        elif tag == "button":  # a named button sends its value when pressed (remove this entry)
            self._form.fields.append(Field(a["name"], "pressed", a.get("value", "")))
        elif tag == "textarea":
            self._textarea = Field(a["name"], "textarea")
            self._form.fields.append(self._textarea)
        elif tag == "select":
            self._select = Field(a["name"], "select")
            self._form.fields.append(self._select)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse(page: str, html: str) -> FormParser:
    parser = FormParser(page)
    with contextlib.suppress(Exception):  # a malformed page still yields what was read
        parser.feed(html)
    return parser


_USED: dict[str, int] = {}


def totp_now(secret: str) -> str:
    """RFC 6238, six digits, 30 s: what an authenticator app shows. A code is used once (the
    portal remembers used codes), so a second use of one secret waits for the next period."""
    while int(time.time()) // 30 <= _USED.get(secret, -1):
        time.sleep(0.5)
    counter = _USED[secret] = int(time.time()) // 30
    digest = hmac.new(base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1).digest()
    start = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[start:start + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


class Client:
    """One browser (cookies, CSRF token) or one API caller (`token`)."""

    sent = 0  # requests sent by every client of this run

    def __init__(self, base: str, *, token: str | None = None, label: str = "anonymous"):
        self.base = base
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.origin = f"https://{parts.hostname}:{parts.port}"  # as the browser sees the site behind TLS
        self.cookies: dict[str, str] = {}
        self.token = token
        self.label = label

    @property
    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")

    def request(self, method: str, path: str, *, body: bytes | str | None = None, headers: dict | None = None,
                cookies: bool = True) -> Answer:
        path = self._relative(path)
        sent = {"Host": f"{self.host}:{self.port}", "X-Forwarded-Proto": "https", "Accept-Language": "en",
                "User-Agent": "cvi-attack/1"}
        if cookies and self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            sent["Authorization"] = f"Token {self.token}"
        if method not in ("GET", "HEAD"):
            sent |= {"Origin": self.origin, "Referer": self.origin + path}
        sent |= headers or {}
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogatepass")
        started = time.monotonic()
        Client.sent += 1
        conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            data = raw.read()
            answer = Answer(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data,
                            time.monotonic() - started, path)
            for header in raw.headers.get_all("Set-Cookie") or []:
                self._store_cookie(header)
        except (OSError, http.client.HTTPException) as error:
            answer = Answer(0, {}, str(error).encode(), time.monotonic() - started, path)
        finally:
            conn.close()
        return answer

    def _relative(self, path: str) -> str:
        if path.startswith("http"):
            parts = urlsplit(path)
            return parts.path + (f"?{parts.query}" if parts.query else "")
        return path

    def _store_cookie(self, header: str) -> None:
        cookie = SimpleCookie()
        try:
            cookie.load(header)
        except Exception:  # noqa: BLE001, S110
            return
        for name, morsel in cookie.items():
            if morsel["max-age"] == "0" or not morsel.value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path: str, **kw) -> Answer:
        return self.request("GET", path, **kw)

    def post_form(self, path: str, data: dict | list, *, csrf: str | None = None,
                  headers: dict | None = None) -> Answer:
        """A form post; `csrf` None sends the session's own token, "" sends none."""
        items = [(k, v) for k, v in (data.items() if isinstance(data, dict) else data) if k != "csrfmiddlewaretoken"]
        token = self.csrf if csrf is None else csrf
        if token:
            items.append(("csrfmiddlewaretoken", token))
        body = urlencode(items, encoding="utf-8", errors="surrogatepass")
        return self.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def send_json(self, method: str, path: str, payload, *, raw: str | None = None, headers: dict | None = None):
        body = raw if raw is not None else json.dumps(payload)
        sent = {"Content-Type": "application/json", "Accept": "application/json"}
        if not self.token:
            sent["X-CSRFToken"] = self.csrf
        return self.request(method, path, body=body, headers={**sent, **(headers or {})})

    def follow(self, answer: Answer, limit: int = 5) -> Answer:
        """Follow same-site redirects (GET), as a browser would after a form post."""
        while answer.status in (301, 302, 303, 307, 308) and limit and answer.location:
            target = urljoin(self.base + answer.path, answer.location)
            if urlsplit(target).hostname != self.host:
                return answer
            answer = self.get(target)
            limit -= 1
        return answer

    def forms(self, path: str) -> tuple[Answer, list[Form]]:
        answer = self.follow(self.get(path))
        return answer, parse(self.base + answer.path, answer.text).forms


def login_form(client: Client, login_path: str) -> Form | None:
    """The sign-in form on the login page: the form with a password field."""
    _, forms = client.forms(login_path)
    return next((f for f in forms if any(x.kind == "password" for x in f.fields)), None)


def sign_in(client: Client, login_path: str, username: str, password: str, totp_secret: str | None) -> bool:
    """Sign in through the login page, answering a second-factor step with a TOTP code if asked.
    True when the session then reaches the home page without being sent back to sign in."""
    form = login_form(client, login_path)
    if form is None:
        return False
    data = form.values()
    user_field = next((f.name for f in form.fields if f.kind in ("text", "email", "") and f.name != "next"), "username")
    pass_field = next(f.name for f in form.fields if f.kind == "password")
    data |= {user_field: username, pass_field: password}
    answer = client.follow(client.post_form(form.action, data))
    for _ in range(2):  # a second-factor page: a form with a one-time code field
        step = next((f for f in parse(client.base + answer.path, answer.text).forms
                     if any(x.name == "code" for x in f.fields)), None)
        if step is None or not totp_secret:
            break
        answer = client.follow(client.post_form(step.action, step.values() | {"code": totp_now(totp_secret)}))
    home = client.get("/")
    return home.status == 200 or (home.status == 302 and "login" not in home.location)
