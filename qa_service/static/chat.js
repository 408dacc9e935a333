// The chat page: ask /api/ask with the conversation so far, and show cited answers.
import { bibtex, copyText, loadReports, reference, ris } from "./cite.js";
import { answerBubble, el, errorBubble, pendingBubble, questionBubble } from "./render.js";

const COPIED_FOR_MS = 2500;
const STORE = "qa-conversation"; // sessionStorage: this tab's conversation, as its address query

const form = document.getElementById("ask");
const box = document.getElementById("question");
const transcript = document.getElementById("transcript");
const restart = document.getElementById("restart");
const copyStatus = document.getElementById("copy-status");
const starters = document.querySelector("form.starters");

const MAX_CHARS = Number(box.dataset.max) || 1000;
const MAX_HISTORY = Number(box.dataset.maxHistory) || 10; // the API's limit on earlier questions
const counter = document.getElementById("question-count");
const filter = [...document.querySelectorAll('input[name="reports"]')];

// The conversation so far, oldest first, with the passages each answer showed; the server
// renders it from the address (?history=…&question=…), so Back, reload and shared links keep it.
const history = [...transcript.querySelectorAll(".turn[data-answered]")].map((t) => ({
  question: t.dataset.question, shown: (t.dataset.shown || "").split(" ").filter(Boolean),
}));
let turns = transcript.children.length;
let busy = false;

/** The chosen report ids ([] = all reports). */
function chosenReports() {
  return filter.filter((box) => box.checked).map((box) => box.value);
}

/** The address query that holds this conversation: earlier questions, the last one, the filter. */
function conversationQuery() {
  const params = new URLSearchParams();
  history.slice(0, -1).forEach((turn) => params.append("history", turn.question));
  if (history.length) params.append("question", history[history.length - 1].question);
  chosenReports().forEach((id) => params.append("reports", id));
  return params.toString();
}

/** Citation links carry the conversation (for "Back to your conversation") and the quoted words. */
function linkCitations(root) {
  const conversation = conversationQuery();
  for (const link of root.querySelectorAll("a.cite-link")) {
    const item = link.closest(".finding");
    const url = new URL(item.dataset.url, window.location.href);
    url.search = new URLSearchParams({ conversation, quote: item.dataset.quote || "" }).toString();
    link.href = url.pathname + url.search + url.hash;
  }
}

/** Put the conversation in the address (no navigation) and in this tab's storage. */
function remember() {
  const query = conversationQuery();
  window.history.replaceState(null, "", query ? `/?${query}` : "/");
  try {
    if (query) sessionStorage.setItem(STORE, query);
    else sessionStorage.removeItem(STORE);
  } catch { /* storage off: the address still holds the conversation */ }
  linkCitations(transcript);
}

/** Say how many characters are left near the limit, and refuse (aloud) a question over it. */
function count() {
  const used = box.value.length;
  const over = used > MAX_CHARS;
  counter.classList.toggle("over", over);
  if (over) counter.textContent = `Too long: ${used - MAX_CHARS} characters over the limit of ${MAX_CHARS}. Shorten it to ask.`;
  else if (used > MAX_CHARS * 0.8) counter.textContent = `${MAX_CHARS - used} characters left.`;
  else counter.textContent = `Up to ${MAX_CHARS} characters.`;
  return !over;
}

// Reload or Back to a bare "/" in this tab: bring the conversation back from storage.
const navigation = performance.getEntriesByType("navigation")[0];
if (!window.location.search && navigation && ["reload", "back_forward"].includes(navigation.type)) {
  try {
    const saved = sessionStorage.getItem(STORE);
    if (saved) window.location.replace(`/?${saved}`);
  } catch { /* storage off */ }
}

loadReports(); // warm the cache: answers and citations need report names and publishers

/** Read an /api/ask response; throw an Error whose message is fit to show when it failed. */
async function ask(question) {
  let response;
  try {
    response = await fetch("/api/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({
        question, history: history.slice(-MAX_HISTORY),
        ...(chosenReports().length ? { reports: chosenReports() } : {}),
      }),
    });
  } catch {
    throw new Error("the service could not be reached. Check the connection and try again.");
  }
  let body = null;
  if ((response.headers.get("Content-Type") || "").includes("json")) {
    body = await response.json().catch(() => null);
  }
  if (!response.ok || !body || typeof body !== "object") {
    // problem+json carries a precise, human-readable detail; anything else gets the status.
    const detail = body && typeof body.detail === "string" && body.detail
      ? body.detail : `the service answered with HTTP ${response.status}.`;
    throw new Error(detail);
  }
  return body;
}

function setBusy(on) {
  busy = on;
  transcript.setAttribute("aria-busy", on ? "true" : "false");
  form.classList.toggle("busy", on);
}

// block "nearest" shows the pending turn just above the box; "start" puts an answered turn's
// question at the top, so a long answer reads from its beginning.
function reveal(node, block) {
  const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  node.scrollIntoView({ block, behavior: still ? "auto" : "smooth" });
}

/** Ask one question and add the turn to the transcript; fromBox empties the box once it is sent. */
async function send(raw, fromBox) {
  const question = (raw || "").trim();
  if (!question) {
    box.focus();
    return;
  }
  if (busy) return; // one question at a time keeps the history in order
  if (fromBox && !count()) {
    box.focus();
    return;
  }
  const turnId = `t${++turns}`;
  const pending = pendingBubble();
  const turn = el("article", { class: "turn", id: turnId }, questionBubble(question), pending);
  transcript.append(turn);
  if (fromBox) box.value = ""; // a starter button leaves any draft in the box alone
  setBusy(true);
  reveal(turn, "nearest");
  try {
    const [answer, reports] = await Promise.all([ask(question), loadReports()]);
    pending.replaceWith(answerBubble(answer, turnId, reports));
    turn.dataset.question = question;
    const shown = (answer.findings || []).map((f) => f.citation && f.citation.passage_id).filter(Boolean);
    history.push({ question, shown });
    remember();
  } catch (error) {
    pending.replaceWith(errorBubble(error.message));
    if (!box.value) box.value = question; // hand the question back so it can be sent again
  } finally {
    setBusy(false);
    restart.hidden = false;
    reveal(turn, "start");
  }
}

/** Copy a finding's reference (Harvard, BibTeX or RIS) and confirm it visibly and to screen readers. */
async function copyCitation(button) {
  const item = button.closest(".finding");
  const citation = {
    report: item.dataset.report, report_id: item.dataset.reportId, section: item.dataset.section,
    paragraph: item.dataset.paragraph, url: item.dataset.url, pages: item.dataset.pages,
  };
  const reports = await loadReports();
  const meta = reports.get(citation.report_id);
  const format = button.dataset.format;
  const text = format === "bibtex" ? bibtex(citation, meta) : format === "ris" ? ris(citation, meta)
    : reference(citation, meta);
  const label = button.textContent;
  if (await copyText(text)) {
    button.textContent = "Copied";
    button.classList.add("copied");
    copyStatus.textContent = "Citation copied.";
    setTimeout(() => {
      button.textContent = label;
      button.classList.remove("copied");
      copyStatus.textContent = "";
    }, COPIED_FOR_MS);
  } else {
    showForManualCopy(item, text);
  }
}

// No clipboard at all: show the reference selected, so Ctrl+C (or a long press) copies it.
function showForManualCopy(item, text) {
  let field = item.querySelector("input.manual-copy");
  if (!field) {
    field = el("input", { class: "manual-copy", type: "text", readonly: true, "aria-label": "Citation to copy" });
    item.append(el("p", { class: "hint" }, "Copying is blocked here; select this and copy it:"), field);
  }
  field.value = text;
  field.focus();
  field.select();
}

box.addEventListener("keydown", (event) => {
  // Enter sends; Shift+Enter falls through to the textarea's own newline. An IME may be composing.
  if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
  event.preventDefault();
  send(box.value, true);
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  send(box.value, true);
});

starters?.addEventListener("submit", (event) => {
  event.preventDefault();
  send(event.submitter?.value, false);
});

transcript.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy, button.copy-format");
  if (button) copyCitation(button);
  const vote = event.target.closest("button.fb, button.fb-send");
  if (vote) giveFeedback(vote);
});

const VOTED = "qa-voted"; // answer ids this tab has rated: one vote per answer

function voted() {
  try { return new Set(JSON.parse(sessionStorage.getItem(VOTED) || "[]")); } catch { return new Set(); }
}

/** Send a rating ("Helpful", or "Not helpful" then an optional comment) and confirm it politely. */
async function giveFeedback(button) {
  const box = button.closest(".feedback");
  const status = box.querySelector(".fb-status");
  const answerId = box.dataset.answerId;
  if (button.classList.contains("fb") && button.dataset.helpful === "false") {
    box.querySelector(".fb-more").hidden = false; // say what was missing, or just send
    box.querySelector(".fb-comment").focus();
    box.dataset.helpful = "false";
    return;
  }
  const helpful = button.classList.contains("fb") ? button.dataset.helpful === "true" : false;
  const comment = helpful ? "" : box.querySelector(".fb-comment").value.trim();
  for (const control of box.querySelectorAll("button, textarea")) control.disabled = true;
  try {
    const response = await fetch("/api/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ answer_id: answerId, helpful, ...(comment ? { comment } : {}) }),
    });
    if (!response.ok) throw new Error(String(response.status));
    const seen = voted();
    seen.add(answerId);
    try { sessionStorage.setItem(VOTED, JSON.stringify([...seen])); } catch { /* storage off */ }
    box.querySelector(".fb-more").hidden = true;
    status.textContent = helpful ? "Thank you: marked as helpful." : "Thank you: your feedback was sent.";
  } catch {
    for (const control of box.querySelectorAll("button, textarea")) control.disabled = false;
    status.textContent = "Sorry, the feedback could not be sent. Please try again.";
  }
}

restart.addEventListener("click", () => {
  history.length = 0;
  transcript.replaceChildren();
  restart.hidden = true;
  remember();
  box.focus();
});

box.addEventListener("input", count);
for (const check of filter) check.addEventListener("change", remember);

// Enhancements that only work with this script: reveal them now that it runs.
for (const button of transcript.querySelectorAll("button.copy[hidden], button.copy-format[hidden]")) button.hidden = false;
if (history.length) linkCitations(transcript);
document.getElementById("question-hint").hidden = false;
if (history.length) restart.hidden = false;
