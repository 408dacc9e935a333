// The chat page: ask /api/ask with the conversation so far, and show cited answers.
import { copyText, loadReports, reference } from "./cite.js";
import { answerBubble, el, errorBubble, pendingBubble, questionBubble } from "./render.js";

const MAX_HISTORY = 10; // the API accepts at most ten earlier questions
const COPIED_FOR_MS = 2500;

const form = document.getElementById("ask");
const box = document.getElementById("question");
const transcript = document.getElementById("transcript");
const restart = document.getElementById("restart");
const copyStatus = document.getElementById("copy-status");
const starters = document.querySelector("form.starters");

// Earlier questions, oldest first; a page rendered server-side (?question=) may start with one.
const history = [...transcript.querySelectorAll(".turn[data-answered]")].map((t) => t.dataset.question);
let turns = transcript.children.length;
let busy = false;

loadReports(); // warm the cache: answers and citations need report names and publishers

/** Read an /api/ask response; throw an Error whose message is fit to show when it failed. */
async function ask(question) {
  let response;
  try {
    response = await fetch("/api/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ question, history: history.slice(-MAX_HISTORY) }),
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
    history.push(question);
  } catch (error) {
    pending.replaceWith(errorBubble(error.message));
    if (!box.value) box.value = question; // hand the question back so it can be sent again
  } finally {
    setBusy(false);
    restart.hidden = false;
    reveal(turn, "start");
  }
}

/** Copy a finding's reference and confirm it visibly and to screen readers. */
async function copyCitation(button) {
  const item = button.closest(".finding");
  const citation = {
    report: item.dataset.report, report_id: item.dataset.reportId, section: item.dataset.section,
    paragraph: item.dataset.paragraph, url: item.dataset.url, pages: item.dataset.pages,
  };
  const reports = await loadReports();
  const text = reference(citation, reports.get(citation.report_id));
  if (await copyText(text)) {
    button.textContent = "Copied";
    button.classList.add("copied");
    copyStatus.textContent = "Citation copied.";
    setTimeout(() => {
      button.textContent = "Copy citation";
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
  const button = event.target.closest("button.copy");
  if (button) copyCitation(button);
});

restart.addEventListener("click", () => {
  history.length = 0;
  transcript.replaceChildren();
  restart.hidden = true;
  box.focus();
});

// Enhancements that only work with this script: reveal them now that it runs.
for (const button of transcript.querySelectorAll("button.copy[hidden]")) button.hidden = false;
document.getElementById("question-hint").hidden = false;
if (history.length) restart.hidden = false;
