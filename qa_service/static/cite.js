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

/** `Publisher (year) *Title*, section, paragraph N. <absolute link>` for one citation. */
export function reference(citation, meta, base = window.location.href) {
  const link = new URL(citation.url, base).href;
  const page = citation.pages ? `, ${citation.pages}` : ""; // "p. 12" from the finding's data-pages
  const where = `${citation.section}, paragraph ${citation.paragraph}${page}. ${link}`;
  if (!meta) return `*${citation.report}*, ${where}`; // metadata unavailable: say only what we know
  const publisher = meta.publisher_short || meta.publisher;
  const year = /^\d{4}/.test(meta.published || "") ? meta.published.slice(0, 4) : "n.d.";
  return `${publisher} (${year}) *${meta.title}*, ${where}`;
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
