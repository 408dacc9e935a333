// A report page opened from a citation: focus the cited passage and mark the exact words quoted.

const params = new URLSearchParams(window.location.search);
const target = window.location.hash ? document.getElementById(decodeURIComponent(window.location.hash.slice(1))) : null;

/** Return a Range over the first occurrence of `quote` in `node`'s text, across inline elements. */
function rangeOf(node, quote) {
  const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
  const pieces = [];
  let text = "";
  while (walker.nextNode()) {
    pieces.push([walker.currentNode, text.length]);
    text += walker.currentNode.data;
  }
  const at = text.indexOf(quote);
  if (at < 0 || !quote) return null;
  const locate = (offset) => {
    for (let i = pieces.length - 1; i >= 0; i -= 1) {
      if (pieces[i][1] <= offset) return [pieces[i][0], offset - pieces[i][1]];
    }
    return null;
  };
  const start = locate(at);
  const end = locate(at + quote.length);
  if (!start || !end) return null;
  const range = document.createRange();
  range.setStart(start[0], start[1]);
  range.setEnd(end[0], end[1]);
  return range;
}

if (target) {
  // Keyboard and screen-reader users start where the citation pointed, not at the page top.
  if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus({ preventScroll: false });
  const quote = params.get("quote");
  const range = quote ? rangeOf(target, quote) : null;
  if (range && window.CSS && CSS.highlights && typeof Highlight === "function") {
    CSS.highlights.set("quote", new Highlight(range));
    target.classList.add("has-quote");
  }
}
