"""A small HTTP client for driving a real server from many threads: one cookie jar per patient, one
connection per request, the forms of a page read with an HTML parser (not regexes tied to the
templates' attribute order)."""
from __future__ import annotations

import http.client
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # hidden and text inputs: name -> value
    choices: list[str] = field(default_factory=list)  # the values of the `choice` radios/checkboxes


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(Form(action=attrs.get("action") or ""))
        elif tag == "input" and self.forms and attrs.get("name"):
            form = self.forms[-1]
            if attrs["name"] == "choice":
                form.choices.append(attrs.get("value") or "")
            elif attrs.get("type") not in ("checkbox", "radio", "submit"):
                form.fields[attrs["name"]] = attrs.get("value") or ""


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def form_posting_to(html: str, suffix: str) -> Form | None:
    """The form whose action ends with `suffix` (e.g. "/answer"), or None."""
    return next((f for f in forms(html) if f.action.endswith(suffix)), None)


class Browser:
    """One patient's cookies against one server. Thread-safe as long as each thread has its own."""

    def __init__(self, base_url: str, ssl_context: ssl.SSLContext | None = None, timeout: float = 30):
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.host, self.port, self.scheme = parts.hostname, parts.port, parts.scheme
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None) -> Reply:
        if self.scheme == "https":
            connection = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                     context=self.ssl_context)
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        send = {"Accept-Encoding": "identity", "Referer": self.base_url + "/", **(headers or {})}
        if self.cookies:
            send["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            send["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=send)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Reply(response.status, response.headers, text)

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict, **kwargs) -> Reply:
        return self.request("POST", path, form=form, **kwargs)

    def sign_in(self, code: str) -> Reply:
        page = self.get("/")
        start = next((f for f in forms(page.text) if "code" in f.fields), None)
        assert start is not None, f"no code form on / ({page.status})"
        return self.post("/", {**start.fields, "code": code})


def all_at_once(tasks):
    """Run the callables in `tasks` in their own threads, released together; return their results."""
    barrier = threading.Barrier(len(tasks))

    def run(task):
        barrier.wait()
        return task()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(run, tasks))
