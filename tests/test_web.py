"""The HTML pages through Flask's test client: structure, anchors, errors, and what they may load."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from qa_service import create_app
from qa_service.search.builder import build_index
from qa_service.web.pages import long_date, markers
from tests.conftest import ROOT, write_report

STATIC = ROOT / "qa_service" / "static"
PAGES = ["/", "/reports", "/reports/ages-of-concern", "/reports/ages-of-concern-related",
         "/?question=What+about+fathers%3F", "/?question=What+is+the+capital+of+France%3F", "/reports/nope"]


class Page(HTMLParser):
    """Every start tag of a page with its attributes, and the text of any inline script."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.inline_scripts: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        self._in_script = tag == "script" and "src" not in attributes

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_scripts.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        """Return the attributes of every `tag` whose attributes include `attrs`."""
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    @property
    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if "id" in a}


@pytest.fixture
def client(bundled_index: Path):
    return create_app({"INDEX_DIR": str(bundled_index), "TESTING": True}).test_client()


def html_of(client, path: str, status: int = 200) -> Page:
    response = client.get(path)
    assert response.status_code == status, path
    assert response.mimetype == "text/html"
    return Page(response.get_data(as_text=True))


def test_chat_page_has_box_log_and_starter_questions(client) -> None:
    page = html_of(client, "/")
    assert page.find("textarea", name="question", id="question")
    assert page.find("div", id="transcript", role="log", **{"aria-live": "polite"})
    examples = client.get("/api/reports").get_json()["reports"]
    wanted = [q for r in examples for q in r.get("example_questions", [])]
    assert wanted, "the bundled content should offer starter questions"
    starters = [a["value"] for a in page.find("button", type="submit", name="question")]
    assert starters == wanted
    assert page.find("script", type="module", src="/static/chat.js")


def test_chat_answers_without_javascript(client) -> None:
    page = html_of(client, "/?question=What+about+the+role+of+fathers%3F")
    links = page.find("a", **{"class": "cite-link"})
    # Citation links carry the conversation (for the way back) and the quoted words.
    assert links and re.fullmatch(r"/reports/ages-of-concern\?conversation=question%3D.+&quote=.+#p-[0-9a-f]{10}",
                                  links[0]["href"])
    body = client.get("/?question=What+about+the+role+of+fathers%3F").get_data(as_text=True)
    assert "the role of the fathers had been marginalised" in body
    refused = client.get("/?question=What+is+the+capital+of+France%3F").get_data(as_text=True)
    assert "Not found in these reports." in refused
    misspelt = client.get("/?question=What+went+wrong+with+pre-brith+assesments%3F").get_data(as_text=True)
    assert "Spelling corrected" in misspelt and "pre-birth assessments" in misspelt
    too_long = client.get("/?question=" + "x" * 1001).get_data(as_text=True)
    assert "at most 1000 characters" in too_long


def test_reports_page_lists_every_report(client) -> None:
    page = html_of(client, "/reports")
    hrefs = {a["href"] for a in page.find("a")}
    for report in client.get("/api/reports").get_json()["reports"]:
        assert f"/reports/{report['id']}" in hrefs


@pytest.mark.parametrize("report_id", ["ages-of-concern", "ages-of-concern-related"])
def test_report_page_anchors_every_passage_with_its_number(client, report_id: str) -> None:
    page = html_of(client, f"/reports/{report_id}")
    passages = client.get(f"/api/reports/{report_id}").get_json()["passages"]
    assert {p["anchor"] for p in passages} <= page.ids
    numbered = {a["id"]: a.get("data-ordinal") for _, a in page.tags if "passage" in a.get("class", "").split()}
    assert numbered == {p["anchor"]: str(p["ordinal"]) for p in passages}


def test_unknown_report_is_a_friendly_html_404(client) -> None:
    response = client.get("/reports/no-such-report")
    assert response.status_code == 404 and response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "no-such-report" in text and 'href="/reports"' in text


@pytest.mark.parametrize("path", PAGES)
def test_html_pages_carry_the_security_headers(client, path: str) -> None:
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_nothing_external_and_nothing_inline(client, path: str) -> None:
    page = Page(client.get(path).get_data(as_text=True))
    for tag, attrs in page.tags:
        if tag in ("script", "link", "img", "iframe", "source", "audio", "video"):
            url = attrs.get("src") or attrs.get("href") or ""
            assert not url.startswith(("http:", "https:", "//")), f"<{tag}> loads {url}"
        # The CSP forbids these, and they would fail silently in the browser: catch them here.
        assert "style" not in attrs, f"<{tag}> has an inline style"
        assert not [a for a in attrs if a.startswith("on")], f"<{tag}> has an inline handler"
    assert not "".join(page.inline_scripts).strip()


def test_static_files_reference_nothing_external() -> None:
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "@import" not in text and "url(" not in text, path.name
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, path.name
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, path.name


HOSTILE = """## Tricks

A paragraph <script>alert(1)</script> with <img src=x onerror=alert(2)> an image.

A [markdown link](javascript:alert(3)) and <a href="JaVaScRiPt:alert(4)">a raw one</a>.

<div onclick="alert(5)" style="color: red"><p>Styled and clickable.</p></div>

<iframe src="https://evil.example/"></iframe><svg onload="alert(6)"></svg>
"""


def test_report_html_is_neutralised(tmp_path: Path) -> None:
    content = tmp_path / "content"
    write_report(content, "hostile", HOSTILE, title='"<script>alert(7)</script> report"')
    build_index(content, tmp_path / "index")
    client = create_app({"INDEX_DIR": str(tmp_path / "index"), "TESTING": True}).test_client()
    response = client.get("/reports/hostile")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    page = Page(text)
    # The page's own script (focus and quote highlighting) is the only one; the report's are gone.
    assert page.find("script") == [{"type": "module", "src": "/static/report.js"}] and not page.inline_scripts
    assert not page.find("img") and not page.find("iframe") and not page.find("svg")
    for tag, attrs in page.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        assert "style" not in attrs, (tag, attrs)
        assert not attrs.get("href", "").strip().lower().startswith("javascript:"), (tag, attrs)
    assert "&lt;script&gt;alert(7)&lt;/script&gt; report" in text  # the title is shown as text
    assert "Styled and clickable." in text  # text survives; only the dangerous parts go


def test_long_date_formats_iso_dates_and_passes_others_through() -> None:
    assert long_date("2011-10-26") == "26 October 2011"
    assert long_date("2011-01-02") == "2 January 2011"
    assert long_date("sometime") == "sometime"
    assert long_date(None) == ""


def test_markers_link_only_the_findings_they_number() -> None:
    pieces = markers("“a [3] b” [1] “c” [2]", 2)
    assert pieces == [("“a [3] b” ", None), ("[1]", 1), (" “c” ", None), ("[2]", 2)]


def test_a_conversation_in_the_address_is_replayed_turn_by_turn(client) -> None:
    page = client.get("/?history=What+common+errors+were+seen+with+babies%3F&question=Tell+me+more.")
    body = page.get_data(as_text=True)
    assert body.count('class="turn"') == 2
    assert 'name="history" value="What common errors were seen with babies?"' in body
    assert 'name="history" value="Tell me more."' in body  # the next question continues it


def test_report_page_offers_the_way_back_and_nothing_else(client) -> None:
    back = client.get("/reports/ages-of-concern?conversation=question%3Dfathers%26evil%3D1").get_data(as_text=True)
    assert 'href="/?question=fathers"' in back and "Back to your conversation" in back and "evil" not in back
    assert "Back to your conversation" not in client.get("/reports/ages-of-concern").get_data(as_text=True)


def test_control_characters_are_never_echoed(client) -> None:
    body = client.get("/?question=fa%00thers%1b").get_data(as_text=True)
    assert "\x00" not in body and "\x1b" not in body and "fathers" in body
