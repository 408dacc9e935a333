"""The chat and report pages in headless Chromium, against the real `qa-service serve`."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import CLI, ROOT, free_port, wait_healthy

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
# The system Chromium, never a downloaded one; quiet flags so it makes no network calls of its own.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
FINDING = "#transcript .turn .finding"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Launch one headless Chromium for the whole module."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing; run scripts/ensure-chromium.sh"
        if os.environ.get("QA_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def base_url(bundled_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run `qa-service serve` with one worker on a free port; stop it afterwards."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("browser-serve") / "server.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen([str(CLI), "serve", "--port", str(port), "--workers", "1",
                                 "--index", str(bundled_index)], stdout=log, stderr=subprocess.STDOUT)
        try:
            try:
                wait_healthy(base, proc)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{log_path.read_text(encoding='utf-8')}") from None
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=15)


@pytest.fixture
def page(browser, base_url: str) -> Iterator[object]:
    """A fresh desktop-sized page; fails the test if the page throws or breaks the CSP."""
    # Reduced motion: scrolling jumps rather than glides, so positions are final when checked.
    context = browser.new_context(base_url=base_url, viewport=DESKTOP, reduced_motion="reduce")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on("console", lambda msg: problems.append(f"console: {msg.text}")
           if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    try:
        yield tab
    finally:
        context.close()
    assert not problems, problems


def ask(page, question: str) -> object:
    """Type a question into the box, press Enter, and return the new turn once it is answered."""
    before = page.locator("#transcript .turn").count()
    page.locator("#question").fill(question)
    page.locator("#question").press("Enter")
    turn = page.locator("#transcript .turn").nth(before)
    turn.locator(".bubble.a:not(.pending)").wait_for()
    return turn


def in_viewport(page, selector: str) -> bool:
    """Whether the element's box lies within the window."""
    return page.eval_on_selector(selector, """el => { const r = el.getBoundingClientRect();
        return r.top >= 0 && r.bottom <= innerHeight && r.height > 0; }""")


def test_enter_sends_and_shows_findings_with_citations(page) -> None:
    page.goto("/")
    turn = ask(page, "What went wrong with pre-birth assessments?")
    assert turn.locator(".q-text").text_content() == "What went wrong with pre-birth assessments?"
    assert "pre-birth assessments" in turn.locator(".answer-text").text_content()
    assert turn.locator(".answer-text a.marker").first.text_content() == "[1]"
    link = turn.locator(".finding .cite-link").first
    # The source label names the publisher and year; paragraphs are numbered within their section.
    assert re.fullmatch(r"Ages of concern \(Ofsted, 2011\), Summary, paragraph \d", link.text_content())
    assert re.fullmatch(r"/reports/ages-of-concern\?conversation=.+&quote=.+#p-[0-9a-f]{10}", link.get_attribute("href"))
    assert page.locator("#transcript").get_attribute("aria-busy") == "false"
    assert page.locator("#question").input_value() == ""
    corrected = ask(page, "What went wrong with pre-brith assesments?")
    assert "pre-birth assessments" in corrected.locator(".corrected").text_content()
    assert corrected.locator(".finding").count() > 0


def test_citation_link_lands_on_the_highlighted_passage(page) -> None:
    page.goto("/")
    turn = ask(page, "What about the role of fathers?")
    href = turn.locator(".cite-link").first.get_attribute("href")
    turn.locator(".cite-link").first.click()
    page.wait_for_url(f"**{href}")
    target = "#" + href.split("#")[1]
    style = "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.outlineStyle]; }"
    highlighted = page.eval_on_selector(target, style)
    plain = page.eval_on_selector(f".passage:not({target})", style)
    assert highlighted != plain and highlighted[1] != "none"
    assert page.eval_on_selector(".passage:target", "el => el.id") == target[1:]
    assert in_viewport(page, target)


def test_a_cited_table_row_is_highlighted_too(page) -> None:
    row = page.request.get("/api/reports/ages-of-concern").json()
    anchor = next(p["anchor"] for p in row["passages"] if p["kind"] == "table_row")
    page.goto(f"/reports/ages-of-concern#{anchor}")
    cell = "el => getComputedStyle(el.querySelector('td')).backgroundColor"
    assert page.eval_on_selector(f"#{anchor}", cell) != page.eval_on_selector("tr.passage:not(:target)", cell)
    assert page.eval_on_selector(f"#{anchor}", "el => getComputedStyle(el).outlineStyle") != "none"
    assert in_viewport(page, f"#{anchor}")


def test_follow_up_sends_history_and_is_answered_in_context(page, browser, base_url: str) -> None:
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/api/ask") else None)
    page.goto("/")
    ask(page, "What common errors were seen with babies?")
    follow_up = ask(page, "Tell me more.")
    # In context it is either answered with further findings or told there is nothing more.
    assert follow_up.locator(".finding").count() > 0 or "Nothing more on this" in follow_up.text_content()
    assert "Not found in these reports" not in follow_up.text_content()
    assert sent[0]["history"] == []
    assert [h["question"] for h in sent[1]["history"]] == ["What common errors were seen with babies?"]
    assert sent[1]["history"][0]["shown"]  # the passages already shown travel with the question

    # The same words with no conversation behind them are not answerable: the history did the work.
    fresh = page.context.new_page()
    fresh.goto("/")
    alone = ask(fresh, "Tell me more.")
    assert "Not found in these reports" in alone.text_content()
    assert alone.locator(".finding").count() == 0


def test_unanswerable_question_gets_the_not_found_reply(page) -> None:
    page.goto("/")
    turn = ask(page, "What is the capital of France?")
    assert "Not found in these reports." in turn.locator(".verdict").text_content()
    assert turn.locator(".finding").count() == 0
    assert turn.locator(".covers li").count() >= 1  # suggestions, or the reports that are searched


def test_question_markup_is_shown_as_text_and_never_run(page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    probe = "<img src=x onerror=alert(1)>"
    page.goto("/")
    turn = ask(page, probe)
    page.wait_for_timeout(300)  # time for a broken image's onerror to have fired, were there one
    assert dialogs == []
    assert turn.locator(".q-text").text_content() == probe
    assert probe in page.locator("#transcript").text_content()
    assert page.locator("#transcript img").count() == 0


def test_keyboard_alone_can_ask_and_follow_a_citation(page) -> None:
    page.goto("/")
    for _ in range(20):  # skip link, site links, starters, then the box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "question":
            break
    else:
        pytest.fail("Tab never reached the question box")
    page.keyboard.type("What about fathers?")
    page.keyboard.press("Enter")
    page.locator(FINDING).first.wait_for()
    # The answer sits just before the box, so Shift+Tab walks back into it.
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.classList.contains('cite-link')"):
            break
    else:
        pytest.fail("Shift+Tab never reached a citation link")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # focus is visible
    href = page.evaluate("document.activeElement.getAttribute('href')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{href}")
    assert page.eval_on_selector(".passage:target", "el => el.id") == href.split("#")[1]


def test_shift_enter_adds_a_line_instead_of_sending(page) -> None:
    page.goto("/")
    box = page.locator("#question")
    box.click()
    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    assert box.input_value() == "first line\nsecond line"
    assert page.locator("#transcript .turn").count() == 0
    page.keyboard.press("Enter")
    turn = page.locator("#transcript .turn").first
    turn.locator(".bubble.a:not(.pending)").wait_for()
    assert turn.locator(".q-text").text_content() == "first line\nsecond line"


def test_starter_question_buttons_ask_and_keep_any_draft(page) -> None:
    page.goto("/")
    page.locator("#question").fill("a draft")
    starter = page.locator("button.starter").first
    question = starter.text_content()
    starter.click()
    turn = page.locator("#transcript .turn").first
    turn.locator(".finding").first.wait_for()
    assert turn.locator(".q-text").text_content() == question
    assert page.locator("#question").input_value() == "a draft"


def test_loading_state_then_problem_detail_on_failure(page) -> None:
    held: list = []
    page.route("**/api/ask", lambda route: held.append(route))  # hold the request until the test lets it go
    page.goto("/")
    page.locator("#question").fill("What about fathers?")
    page.locator("#question").press("Enter")
    page.get_by_text("Searching the reports…").wait_for()
    assert page.locator("#transcript").get_attribute("aria-busy") == "true"
    for _ in range(100):  # route handlers run while Playwright waits, so wait a little
        if held:
            break
        page.wait_for_timeout(20)
    assert held, "the question was never sent"
    held[0].fulfill(status=503, content_type="application/problem+json", body=json.dumps(
        {"type": "about:blank", "title": "Service unavailable", "status": 503,
         "detail": "No index has been built yet."}))
    error = page.locator("#transcript .error")
    error.wait_for()
    assert "No index has been built yet." in error.text_content()
    assert page.locator("#transcript").get_attribute("aria-busy") == "false"
    assert page.locator("#question").input_value() == "What about fathers?"  # handed back to retry


def test_copy_citation_puts_a_reference_on_the_clipboard(page, base_url: str) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page.goto("/")
    turn = ask(page, "What about the role of fathers?")
    href = turn.locator(".cite-link").first.get_attribute("href")
    button = turn.locator("button.copy").first
    button.click()
    page.get_by_role("button", name="Copy citation 1").filter(has_text="Copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    # Harvard style in plain text: no Markdown, the real source, a section-relative paragraph, accessed date.
    source = page.request.get("/api/reports/ages-of-concern").json()["source_url"]
    today = date.today()
    assert re.fullmatch(
        r"Ofsted \(2011\) Ages of concern: learning lessons from serious case reviews: a thematic report of "
        r"Ofsted’s evaluation of serious case reviews from 1 April 2007 to 31 March 2011\. Summary, paragraph \d\. "
        + re.escape(f"Available at: {source} (Accessed: {today.day} {today:%B %Y}).") , copied), copied
    assert "*" not in copied
    turn.get_by_role("button", name="Copy citation 1 as BibTeX").click()
    page.get_by_role("button", name="Copy citation 1 as BibTeX").filter(has_text="Copied").wait_for()
    bib = page.evaluate("navigator.clipboard.readText()")
    assert bib.startswith("@misc{ages-of-concern-2011,") and "year = {2011}" in bib and source in bib
    turn.get_by_role("button", name="Copy citation 1 as RIS").click()
    page.get_by_role("button", name="Copy citation 1 as RIS").filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()").startswith("TY  - RPRT\nAU  - Ofsted")
    assert href


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots_fit_the_screen(page, name: str, viewport: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size(viewport)
    fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    page.goto("/")
    page.screenshot(path=ARTIFACTS / f"chat-empty-{name}.png")
    ask(page, "What went wrong with pre-birth assessments?")
    ask(page, "When was Ages of concern published?")
    ask(page, "What is the capital of France?")
    assert page.evaluate(fits), "the chat scrolls sideways"
    # The box is sticky at the foot of the window, so capture the window, not the whole page.
    page.screenshot(path=ARTIFACTS / f"chat-end-{name}.png")
    page.evaluate("document.querySelector('#transcript .turn:nth-child(2)').scrollIntoView()")
    page.screenshot(path=ARTIFACTS / f"chat-answer-{name}.png")
    href = page.locator(".cite-link").first.get_attribute("href")
    page.goto(href)
    assert page.evaluate(fits), "the report scrolls sideways"
    page.screenshot(path=ARTIFACTS / f"report-{name}.png")
    page.goto("/reports")
    assert page.evaluate(fits), "the report list scrolls sideways"
    page.screenshot(path=ARTIFACTS / f"reports-{name}.png", full_page=True)


def conversation_questions(page) -> list[str]:
    return page.locator("#transcript .turn .q-text").all_text_contents()


def test_back_reload_and_a_shared_link_restore_the_conversation(page, browser, base_url: str) -> None:
    page.goto("/")
    ask(page, "What common errors were seen with babies?")
    ask(page, "What about fathers?")
    asked = ["What common errors were seen with babies?", "What about fathers?"]
    assert "history=" in page.url and "question=" in page.url  # the address holds the conversation
    page.locator(".cite-link").first.click()
    page.wait_for_load_state()
    focused = page.evaluate("document.activeElement.id")
    assert focused and focused == page.url.split("#")[1]  # focus lands on the cited passage
    back = page.get_by_role("link", name="Back to your conversation")
    assert back.count() == 1
    page.go_back()
    page.locator("#transcript .turn").nth(1).wait_for()
    assert conversation_questions(page) == asked
    page.reload()
    assert conversation_questions(page) == asked
    shared = browser.new_context(base_url=base_url).new_page()  # a link sent to a colleague
    shared.goto(page.url)
    assert conversation_questions(shared) == asked
    assert shared.locator("#transcript .turn").nth(1).locator(".finding").count() > 0
    shared.context.close()
    back_page = page.context.new_page()
    back_page.goto(page.locator(".cite-link").first.get_attribute("href"))
    back_page.get_by_role("link", name="Back to your conversation").click()
    back_page.locator("#transcript .turn").nth(1).wait_for()
    assert conversation_questions(back_page) == asked


def test_tell_me_more_gives_a_different_finding(page) -> None:
    page.goto("/")
    first = ask(page, "What common errors were seen with babies?")
    more = ask(page, "Tell me more.")
    before = {f.get_attribute("data-url") for f in first.locator(".finding").all()}
    after = {f.get_attribute("data-url") for f in more.locator(".finding").all()}
    assert before and (not after & before)
    assert after or "Nothing more" in more.text_content()


def test_tell_me_more_without_javascript_moves_on_too(browser, base_url: str) -> None:
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/?question=What+common+errors+were+seen+with+babies%3F")
    page.locator("#question").fill("Tell me more.")
    page.locator("#send").click()
    page.wait_for_load_state()
    turns = page.locator("#transcript .turn")
    assert turns.count() == 2
    first = {f.get_attribute("data-url") for f in turns.nth(0).locator(".finding").all()}
    second = {f.get_attribute("data-url") for f in turns.nth(1).locator(".finding").all()}
    assert first and not second & first
    context.close()


def test_report_filter_limits_the_answer_and_is_in_the_address(page) -> None:
    page.goto("/")
    group = page.get_by_role("group", name="Reports to search")
    page.locator(".filter summary").click()
    group.get_by_role("checkbox", name=re.compile("Ages of concern \\(Ofsted")).check()
    assert group.get_by_role("checkbox").count() == 2
    turn = ask(page, "What about young people?")
    reports = {f.get_attribute("data-report-id") for f in turn.locator(".finding").all()}
    assert reports == {"ages-of-concern"}
    assert "reports=ages-of-concern" in page.url
    page.reload()
    assert page.get_by_role("checkbox", name=re.compile("Ages of concern \\(Ofsted")).is_checked()


def test_over_long_question_is_refused_with_a_message(page) -> None:
    page.goto("/")
    page.locator("#question").fill("word " * 300)
    page.locator("#question").press("Enter")
    assert "over the limit of 1000" in page.locator("#question-count").text_content()
    assert page.locator("#transcript .turn").count() == 0
    assert page.locator("#question").input_value().startswith("word word")  # nothing cut silently


@pytest.mark.parametrize("zoom", [2, 4])
def test_nothing_is_clipped_at_high_zoom(browser, base_url: str, zoom: int) -> None:
    # 400% zoom of a 1280-wide window is a 320 CSS-pixel-wide viewport.
    context = browser.new_context(base_url=base_url, viewport={"width": 1280 // zoom, "height": 800 // zoom},
                                  device_scale_factor=zoom)
    page = context.new_page()
    page.goto("/")
    ask(page, "What about fathers?")
    fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    assert page.evaluate(fits)
    for selector in ("#send", "#question", "#restart"):
        box = page.locator(selector).bounding_box()
        assert box is None or (box["x"] >= 0 and box["x"] + box["width"] <= 1280 // zoom + 1), selector
    position = page.eval_on_selector(".composer", "el => getComputedStyle(el).position")
    assert position == "static"  # the box no longer covers a third of the screen
    page.screenshot(path=ARTIFACTS / f"chat-zoom-{zoom * 100}.png")
    context.close()


AXE = ROOT / ".cache" / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page) -> list[str]:
    """Run axe-core's WCAG 2.2 A/AA rules on the page as it is; return 'rule: target' lines."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    return [f"{v['id']}: {n['target']}" for v in result["violations"] for n in v["nodes"]]


def test_accessibility_audit_finds_nothing_in_any_state(browser, base_url: str) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing; run scripts/ensure-axe.sh")
    # The CSP is bypassed in this test browser only, so the audit script can be injected.
    for scheme in ("light", "dark"):
        context = browser.new_context(base_url=base_url, viewport=DESKTOP, bypass_csp=True,
                                      reduced_motion="reduce", color_scheme=scheme)
        page = context.new_page()
        states = []
        page.goto("/")
        states.append(("empty chat", axe_violations(page)))
        ask(page, "What went wrong with pre-birth assessments?")
        page.get_by_role("button", name="Not helpful").first.click()  # the comment box open
        ask(page, "What is the capital of France?")
        page.locator(".filter summary").click()
        page.locator("#question").fill("word " * 190)
        page.locator("#question").dispatch_event("input")
        states.append(("answers, refusal, filter, counter", axe_violations(page)))
        page.goto(page.locator(".cite-link").first.get_attribute("href"))
        states.append(("report from a citation", axe_violations(page)))
        page.goto("/reports")
        states.append(("report list", axe_violations(page)))
        page.goto("/reports/nope")
        states.append(("not found page", axe_violations(page)))
        context.close()
        found = [(name, v) for name, v in states if v]
        assert not found, f"{scheme}: {found}"


def test_refusal_suggestions_are_links_to_sections_the_reports_cover(page) -> None:
    page.goto("/")
    turn = ask(page, "Which apprenticeships suit lorry drivers in Wales?")
    link = turn.locator(".not-found ul.covers a").first
    assert "Apprenticeships" in link.text_content()
    link.click()
    page.wait_for_load_state()
    assert "/reports/ages-of-concern-related" in page.url
    assert page.eval_on_selector(".passage:target", "el => el.id") == page.url.split("#")[1]
    page.goto("/")
    unrelated = ask(page, "zzzz qqqq")
    assert unrelated.locator(".not-found").count() == 1
    assert "Nearest sections" not in unrelated.text_content()  # nothing shares its words: no suggestions


def test_a_question_for_several_things_is_answered_with_a_list(page) -> None:
    page.goto("/")
    turn = ask(page, "What are the key lessons for babies under one?")
    items = turn.locator(".finding").first.locator("ul.items li")
    assert items.count() >= 7
    assert any("fathers" in text for text in items.all_text_contents())
    # Each quote is shown once: a finding quoted in the answer text is not quoted again below it.
    quoted = turn.locator(".answer-text").text_content()
    for text in turn.locator(".finding .finding-text").all_text_contents():
        assert text.strip("“”\"") not in quoted


def test_feedback_buttons_send_one_vote_per_answer(page) -> None:
    page.goto("/")
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/api/feedback") else None)
    turn = ask(page, "What about the role of fathers?")
    group = turn.get_by_role("group", name="Was this answer helpful?")
    group.get_by_role("button", name="Not helpful").click()
    comment = group.get_by_label("What was missing or wrong? (optional)")
    assert page.evaluate("document.activeElement.classList.contains('fb-comment')")
    comment.fill("I wanted more on fathers' involvement.")
    group.get_by_role("button", name="Send feedback").click()
    page.get_by_role("status").filter(has_text="Thank you").wait_for()
    assert sent == [{"answer_id": sent[0]["answer_id"], "helpful": False,
                     "comment": "I wanted more on fathers' involvement."}]
    assert group.get_by_role("button", name="Helpful", exact=True).is_disabled()  # one vote per answer
