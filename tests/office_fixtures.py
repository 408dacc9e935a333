"""Word and HTML test documents made at test time; each function returns the expected passages."""

from __future__ import annotations

from pathlib import Path

import docx

DOCX_HEADINGS = [(1, "The Carver Review"), (2, "What happened"), (3, "The school's part")]
DOCX_PASSAGES = [
    ("paragraph", "1. The review looked at the care of a boy aged seven over two years."),
    ("paragraph", "2. Teachers raised concerns about bruising three times, and each was recorded."),
    ("list_item", "The designated safeguarding lead was on leave for a term."),
    ("list_item", "Nobody followed up the referral once it was closed."),
    ("paragraph", "3. The school has since changed how it records concerns."),
    ("table_row", "School | 3"),
    ("table_row", "Health | 1"),
]


def write_docx(path: Path) -> Path:
    """Write a Word document with a title, headings, numbered paragraphs, bullets and a table."""
    d = docx.Document()
    d.core_properties.title = "The Carver Review"
    d.core_properties.author = "Carver Safeguarding Children Partnership"
    d.add_heading("The Carver Review", level=0)
    d.add_heading("What happened", level=1)
    d.add_paragraph(DOCX_PASSAGES[0][1])
    d.add_paragraph(DOCX_PASSAGES[1][1])
    d.add_heading("The school's part", level=2)
    d.add_paragraph(DOCX_PASSAGES[2][1], style="List Bullet")
    d.add_paragraph(DOCX_PASSAGES[3][1], style="List Bullet")
    d.add_paragraph(DOCX_PASSAGES[4][1])
    table = d.add_table(rows=3, cols=2)
    for r, row in enumerate((("Agency", "Concerns"), ("School", "3"), ("Health", "1"))):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    d.save(str(path))
    return path


HTML_PASSAGES = [
    ("paragraph", ("1. The panel found that the family was known to six agencies over four years before "
                   "the incident happened.")),
    ("paragraph", ("2. Information about the father's history was held by the police but never shared "
                   "with the school or the health visitor.")),
    ("list_item", "Agencies should share chronologies with each other."),
    ("list_item", "Fathers should be invited to every meeting."),
    ("table_row", "Police | 3"),
    ("paragraph", ("3. The partnership accepted all of the recommendations and will report on progress "
                   "within six months.")),
]
HTML_BOILERPLATE = ["cookies", "Accept all", "Contact us", "Home", "All rights reserved", "Privacy policy"]


def write_html(path: Path) -> Path:
    """Write a council web page: the review inside navigation, a cookie banner and a footer."""
    p = [t for k, t in HTML_PASSAGES if k == "paragraph"]
    path.write_text(f"""<!doctype html><html lang="en"><head><title>Holloway Review | Example Council</title>
<meta name="author" content="Holloway Safeguarding Partnership">
<meta property="og:site_name" content="Example Council"><meta name="DC.date" content="2023-05-04"></head>
<body><div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience.
<button>Accept all cookies</button></div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/contact">Contact us</a></li></ul></nav>
<main><article><h1>The Holloway Review</h1><p>{p[0]}</p><h2>Key findings</h2><p>{p[1]}</p>
<ul><li>{HTML_PASSAGES[2][1]}</li><li>{HTML_PASSAGES[3][1]}</li></ul>
<table><tr><th>Agency</th><th>Contacts</th></tr><tr><td>Police</td><td>3</td></tr></table>
<p>{p[2]}</p></article></main>
<footer><p>Example Council 2023. All rights reserved. Privacy policy. Accessibility statement.</p></footer>
</body></html>""", encoding="utf-8")
    return path
