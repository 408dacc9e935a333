// Report metadata (fetched once) and "copy citation": a conventional reference on the clipboard.

let reportsPromise = null;

/** Resolve to a Map of report id → metadata from /api/reports, fetched once per page. */
export function loadReports() {
  if (!reportsPromise) {
    reportsPromise = fetch("/api/reports", { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))))
      .then((body) => new Map((body.reports || []).map((r) => [r.id, r])))
      .catch(() => {
        reportsPromise = null; // try again next time rather than caching the failure
        return new Map();
      });
  }
  return reportsPromise;
}

/** The date a reader looked, as references give it: "30 November 2026". */
function accessed(now = new Date()) {
  return now.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
}

function parts(citation, meta, base) {
  const link = new URL(citation.url, base).href;
  const source = meta && /^https?:\/\//.test(meta.source_url || "") ? meta.source_url : link;
  const year = meta && /^\d{4}/.test(meta.published || "") ? meta.published.slice(0, 4) : "n.d.";
  const publisher = meta ? meta.publisher_short || meta.publisher : "";
  const title = meta ? meta.title : citation.report;
  const where = `${citation.section}, paragraph ${citation.paragraph}${citation.pages ? `, ${citation.pages}` : ""}`;
  return { link, source, year, publisher, title, where };
}

/** A Harvard-style reference in plain text: Publisher (Year) Title. Section, paragraph. Available at … */
export function reference(citation, meta, base = window.location.href, now = new Date()) {
  const p = parts(citation, meta, base);
  const who = p.publisher ? `${p.publisher} (${p.year}) ` : "";
  return `${who}${p.title}. ${p.where}. Available at: ${p.source} (Accessed: ${accessed(now)}).`;
}

/** The same reference as a BibTeX @misc entry. */
export function bibtex(citation, meta, base = window.location.href, now = new Date()) {
  const p = parts(citation, meta, base);
  const key = `${citation.report_id || "report"}-${p.year}`.replace(/[^A-Za-z0-9-]/g, "");
  const esc = (text) => String(text).replace(/[{}\\]/g, "");
  return [`@misc{${key},`, `  author = {{${esc(p.publisher)}}},`, `  title = {${esc(p.title)}},`,
    `  year = {${p.year}},`, `  note = {${esc(p.where)}. Accessed ${accessed(now)}},`, `  url = {${p.source}}`, "}"].join("\n");
}

/** The same reference as an RIS record. */
export function ris(citation, meta, base = window.location.href, now = new Date()) {
  const p = parts(citation, meta, base);
  return ["TY  - RPRT", `AU  - ${p.publisher}`, `TI  - ${p.title}`, `PY  - ${p.year}`, `N1  - ${p.where}`,
    `UR  - ${p.source}`, `Y2  - ${accessed(now)}`, "ER  - "].join("\n");
}

/** Put text on the clipboard; resolve true when it got there. */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Permission refused or no user activation: try the older route below.
    }
  }
  // Plain-HTTP pages on another host have no Clipboard API; a selected textarea still copies.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  const focused = document.activeElement;
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  if (focused instanceof HTMLElement) focused.focus();
  return copied;
}
