"""What a browser can see of the app: the forms and links of a page, read with an HTML parser, and a
crawler that follows a signed-in user's links to find every form they are shown (for the fuzzer in
tests/web/test_fuzz.py, which posts to the forms it finds rather than to a hand-written list)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, PathConverter, RequestRedirect, UnicodeConverter


@dataclass
class FormSeen:
    action: str  # path (and query) as written in the page
    method: str
    # name -> the values a browser could send: a text box its current value, a radio group or a select
    # each option, a checkbox its value, in the order the page lists them.
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, value: str) -> None:
        values = self.fields.setdefault(name, [])
        if value not in values:
            values.append(value)


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[FormSeen] = []
        self.urls: list[str] = []
        self._form: FormSeen | None = None
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "option":
            if self._form is not None and self._select:
                self._form.add(self._select, attrs.get("value", ""))
            return
        for attr in ("href", "src", "action", "hx-get", "hx-post", "data-hx-get", "data-hx-post"):
            if attrs.get(attr, "").startswith("/") and not attrs[attr].startswith("//"):
                self.urls.append(attrs[attr])
        if tag == "form":
            self._form = FormSeen(attrs.get("action", ""), attrs.get("method", "get").upper())
            self.forms.append(self._form)
        elif self._form is None or not attrs.get("name"):
            return
        elif tag == "input":
            kind = attrs.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                self._form.add(attrs["name"], attrs.get("value", "on"))
            elif kind not in ("image", "reset", "file"):
                self._form.add(attrs["name"], attrs.get("value", ""))
        elif tag == "button":
            self._form.add(attrs["name"], attrs.get("value", ""))
        elif tag == "select":
            self._select = attrs["name"]
            self._form.fields.setdefault(self._select, [])
        elif tag == "textarea":
            self._textarea, self._text = attrs["name"], []

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._form is not None and self._textarea:
            self._form.add(self._textarea, "".join(self._text))
            self._textarea = None

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


def read_page(html: str) -> tuple[list[FormSeen], list[str]]:
    parser = _PageParser()
    parser.feed(html)
    return parser.forms, parser.urls


@dataclass
class Route:
    """One (endpoint, method) of `app.url_map`, with what the crawl learned about it."""

    endpoint: str
    method: str
    rule: str
    arguments: dict[str, str]  # argument name -> converter_kind()
    seen_args: list[dict[str, str]] = field(default_factory=list)  # real arguments from real links
    query_names: set[str] = field(default_factory=set)  # query parameters its links carry
    query_values: dict[str, list[str]] = field(default_factory=dict)
    forms: dict[str, list[FormSeen]] = field(default_factory=dict)  # role -> the forms it is shown

    def __repr__(self) -> str:  # Hypothesis prints the routes it drew in the order it drew them
        return f"{self.method} {self.rule}"


def converter_kind(converter) -> str:
    """"int", "path" or "string" (what the fuzzer knows how to fill), else the converter's class name."""
    for kind, base in (("int", IntegerConverter), ("path", PathConverter), ("string", UnicodeConverter)):
        if isinstance(converter, base):
            return kind
    return type(converter).__name__


def routes_of(app) -> dict[tuple[str, str], Route]:
    found = {}
    for rule in app.url_map.iter_rules():
        arguments = {name: converter_kind(conv) for name, conv in rule._converters.items()}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found[(rule.endpoint, method)] = Route(rule.endpoint, method, rule.rule, arguments)
    return found


def match(app, url: str, method: str):
    """(endpoint, arguments as strings, query pairs) for a same-site URL, or None."""
    parts = urlsplit(url)
    try:
        endpoint, values = app.url_map.bind("localhost").match(parts.path, method=method)
    except (HTTPException, RequestRedirect):
        return None
    return endpoint, {k: str(v) for k, v in values.items()}, parse_qsl(parts.query, keep_blank_values=True)


def crawl(app, client, role: str, routes: dict[tuple[str, str], Route], start: list[str],
          per_endpoint: int = 2, limit: int = 60) -> None:
    """Follow `client`'s same-site links breadth-first from `start` (GET only: GET changes nothing) and
    record, in `routes`, the real arguments and query parameters of every URL seen and every form shown.
    At most `per_endpoint` pages are opened per endpoint (one source page is like another)."""
    queue, opened, visits = deque(start), set(), {}
    while queue and len(opened) < limit:
        url = queue.popleft()
        if url in opened:
            continue
        matched = match(app, url, "GET")
        if matched is None:
            continue
        endpoint = matched[0]
        if visits.get(endpoint, 0) >= per_endpoint or endpoint == "static":
            continue
        visits[endpoint] = visits.get(endpoint, 0) + 1
        opened.add(url)
        response = client.get(url)
        if not response.mimetype.startswith("text/html"):
            response.close()  # a streamed download (CSV) is not read: end it here, in this context
            continue
        forms, urls = read_page(response.get_data(as_text=True))
        for form in forms:
            form_matched = match(app, form.action or url, form.method)
            if form_matched is not None:
                learn(routes, form.method, form_matched, (role, form))
        for link in urls:
            for method in ("GET", "POST"):
                link_matched = match(app, link, method)
                if link_matched is not None:
                    learn(routes, method, link_matched)
            queue.append(link.split("#", 1)[0])


def learn(routes, method: str, matched, seen_by: tuple[str, FormSeen] | None = None) -> None:
    endpoint, args, query = matched
    route = routes.get((endpoint, method))
    if route is None:
        return
    if args and args not in route.seen_args:
        route.seen_args.append(args)
    if seen_by is not None and method == "GET":  # a search or filter form: its fields are query parameters
        fields = seen_by[1].fields
        query = [*query, *((name, value) for name, values in fields.items() for value in values or [""])]
    for name, value in query:
        route.query_names.add(name)
        route.query_values.setdefault(name, [])
        if value not in route.query_values[name]:
            route.query_values[name].append(value)
    if seen_by is not None:
        role, form = seen_by
        if form not in route.forms.setdefault(role, []):
            route.forms[role].append(form)
