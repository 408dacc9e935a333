// Builds the transcript's DOM. Every piece of question or answer text goes in as a text node,
// never as HTML, so whatever a question or a report contains is shown, not run.
// The structure mirrors templates/_answer.html, which renders the same thing without JavaScript.

/** Create an element with attributes and children; strings become text nodes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Return url if it is an http(s) address (relative ones resolve against this page), else "#". */
export function safeHref(url) {
  try {
    const parsed = new URL(String(url), window.location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? String(url) : "#";
  } catch {
    return "#";
  }
}

/** "p. 12", "pp. 12–13" or "p. xii" (the printed label), as answer.page_text says; "" without pages. */
export function pageText(citation) {
  if (citation.page === null || citation.page === undefined) return "";
  const first = citation.page_label || String(citation.page);
  if (citation.page_end !== null && citation.page_end !== undefined && citation.page_end !== citation.page) {
    return `pp. ${first}–${citation.page_end}`;
  }
  return `p. ${first}`;
}

/** A source as people weigh it: short title, publisher and year ("n.d." only when undated). */
export function sourceLabel(meta) {
  const year = /^\d{4}/.test(meta.published || "") ? meta.published.slice(0, 4) : "n.d.";
  const listing = meta.kind === "listing" ? " · listing" : "";
  return `${meta.short_title || meta.title} (${meta.publisher_short || meta.publisher}, ${year})${listing}`;
}

/** The citation line: report short title (or title), section, paragraph, page. */
export function citationLabel(citation, reports) {
  const meta = reports.get(citation.report_id);
  const name = meta ? sourceLabel(meta) : citation.report;
  const page = pageText(citation);
  const paragraph = citation.section_paragraph || citation.paragraph;
  return `${name}, ${citation.section}, paragraph ${paragraph}${page ? `, ${page}` : ""}`;
}

/** The question half of a turn. */
export function questionBubble(question) {
  return el("div", { class: "bubble q" },
    el("p", { class: "who" }, "You asked"),
    el("p", { class: "q-text" }, question));
}

/** The answer half of a turn while the request is in flight. */
export function pendingBubble() {
  return el("div", { class: "bubble a pending" },
    el("p", { class: "who" }, "From the reports"),
    el("p", { class: "searching" }, "Searching the reports…"));
}

/** The answer half of a turn when the request failed; detail is the server's or ours. */
export function errorBubble(detail) {
  return el("div", { class: "bubble a" },
    el("p", { class: "who" }, "From the reports"),
    el("p", { class: "error" }, `Sorry, the question could not be answered: ${detail}`));
}

/** The answer half of a turn: answer text with markers and findings, or the not-found reply. */
/** "Was this helpful?": two buttons, and a comment box that opens after "Not helpful". */
export function feedbackBox(answerId, turnId) {
  const legend = `${turnId}-fb`;
  return el("div", { class: "feedback", role: "group", "aria-labelledby": legend, "data-answer-id": answerId },
    el("span", { id: legend, class: "fb-title" }, "Was this answer helpful?"), " ",
    el("button", { type: "button", class: "fb", "data-helpful": "true" }, "Helpful"), " ",
    el("button", { type: "button", class: "fb", "data-helpful": "false" }, "Not helpful"),
    el("div", { class: "fb-more", hidden: true },
      el("label", { for: `${turnId}-fb-comment` }, "What was missing or wrong? (optional)"),
      el("textarea", { id: `${turnId}-fb-comment`, class: "fb-comment", rows: 2, maxlength: 2000 }),
      el("button", { type: "button", class: "fb-send" }, "Send feedback")),
    el("p", { class: "fb-status", role: "status" }));
}

export function answerBubble(answer, turnId, reports) {
  const bubble = answerBody(answer, turnId, reports);
  if (typeof answer.answer_id === "string" && answer.answer_id) bubble.append(feedbackBox(answer.answer_id, turnId));
  return bubble;
}

function answerBody(answer, turnId, reports) {
  const findings = Array.isArray(answer.findings) ? answer.findings : [];
  const bubble = el("div", { class: "bubble a" }, el("p", { class: "who" }, "From the reports"));
  if (typeof answer.did_you_mean === "string" && answer.did_you_mean) {
    bubble.append(el("p", { class: "corrected" }, "Spelling corrected; searched for ", el("q", {}, answer.did_you_mean)));
  }
  if (!answer.found || findings.length === 0) {
    bubble.append(notFound(answer, reports));
    return bubble;
  }
  const text = String(answer.answer || "");
  // Findings the answer text already quotes are not quoted again under Sources.
  const quoted = new Set([...text.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1])));
  bubble.append(
    el("p", { class: "answer-text" }, withMarkers(text, findings.length, turnId)),
    el("p", { class: "sources-title", id: `${turnId}-sources` }, "Sources"),
    el("ol", { class: "findings", "aria-labelledby": `${turnId}-sources` },
      findings.map((f, i) => findingItem(f, i + 1, turnId, reports, quoted.has(i + 1)))));
  return bubble;
}

// "… [1] … [2]": text with each marker turned into a link to the finding it numbers.
function withMarkers(text, count, turnId) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(/\[(\d+)\]/g)) {
    const n = Number(match[1]);
    if (n < 1 || n > count) continue; // a bracketed number quoted from a report is not a marker
    parts.push(text.slice(last, match.index),
      el("a", { class: "marker", href: `#${turnId}-f${n}`, "aria-label": `finding ${n}` }, match[0]));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts.filter((p) => p !== "");
}

function findingItem(finding, n, turnId, reports, quotedAbove = false) {
  const c = finding.citation || {};
  const item = el("li", {
    class: "finding", id: `${turnId}-f${n}`, "data-report-id": c.report_id, "data-report": c.report,
    "data-section": c.section, "data-paragraph": c.section_paragraph || c.paragraph, "data-url": c.url, "data-pages": pageText(c),
  },
  el("p", { class: "cite" },
    el("span", { class: "num" }, `[${n}]`), " ",
    el("a", { class: "cite-link", href: safeHref(c.url) }, citationLabel(c, reports)), " ",
    ...(c.original_url ? [el("a", { class: "original", href: safeHref(c.original_url) },
      `Original${pageText(c) ? `, ${pageText(c)}` : ""}`), " "] : []),
    el("button", { type: "button", class: "copy", "aria-label": `Copy citation ${n}` }, "Copy citation"), " ",
    el("button", { type: "button", class: "copy-format", "data-format": "bibtex", "aria-label": `Copy citation ${n} as BibTeX` }, "BibTeX"), " ",
    el("button", { type: "button", class: "copy-format", "data-format": "ris", "aria-label": `Copy citation ${n} as RIS` }, "RIS")),
  Array.isArray(finding.items) && finding.items.length
    ? el("ul", { class: "items", "aria-label": "Listed in this passage" }, finding.items.map((i) => el("li", {}, i)))
    : quotedAbove ? null : el("p", { class: "finding-text" }, el("q", {}, finding.text)));
  item.dataset.quote = finding.text;
  if (finding.passage && finding.passage !== finding.text) item.append(wholePassage(finding));
  return item;
}

// The whole paragraph, folded away, with the quoted part marked.
function wholePassage(finding) {
  const { passage, text } = finding;
  const at = passage.indexOf(text);
  const body = at < 0 ? [passage]
    : [passage.slice(0, at), el("mark", {}, text), passage.slice(at + text.length)];
  return el("details", { class: "passage-text" }, el("summary", {}, "Whole paragraph"), el("p", {}, body));
}

function notFound(answer, reports) {
  if (String(answer.answer || "").startsWith("Nothing more")) {
    return el("div", { class: "not-found" }, el("p", { class: "verdict" }, answer.answer));
  }
  const box = el("div", { class: "not-found" },
    el("p", { class: "verdict" }, el("strong", {}, "Not found in these reports."), " They do not answer this question."));
  const related = Array.isArray(answer.related)
    ? answer.related.filter((r) => r && typeof r.text === "string" && typeof r.url === "string") : [];
  if (related.length) {
    box.append(el("p", {}, "Nearest sections they do cover:"),
      el("ul", { class: "covers" }, related.map((r) => el("li", {}, el("a", { href: safeHref(r.url) }, r.text)))));
  } else if (reports.size) {
    box.append(el("p", {}, "These reports are searched:"),
      el("ul", { class: "covers" }, [...reports.values()].map((r) =>
        el("li", {}, el("a", { href: `/reports/${encodeURIComponent(r.id)}` }, r.title)))));
  }
  return box;
}
