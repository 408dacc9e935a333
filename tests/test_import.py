"""`qa-service import`: generated PDFs, Word and HTML files back as passages with their pages."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from html import unescape
from pathlib import Path

import pypdfium2
import pytest
import yaml
from click.testing import CliRunner

from qa_service import create_app
from qa_service.cli import main
from qa_service.ingest.content import ContentError, Passage, parse_report
from qa_service.ingest.slug import slugify
from qa_service.search.builder import build_index
from tests.import_specs import long_report, one_column, two_column
from tests.office_fixtures import (
    DOCX_HEADINGS,
    DOCX_PASSAGES,
    HTML_BOILERPLATE,
    HTML_PASSAGES,
    write_docx,
    write_html,
)
from tests.pdf_fixtures import DocSpec, Item, bad_files, build_pdf, expected_passages

PDF_SPECS = {"Marlowe Review 2024.pdf": one_column, "holloway-learning.pdf": two_column,
             # 12 pages: a table split across a page break, footnotes on many pages
             "long-review.pdf": lambda: long_report(24, columns=False, seed=1)}


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, DocSpec]]:
    """Return the generated PDFs with their specifications (pages filled in)."""
    folder = tmp_path_factory.mktemp("pdfs")
    return {name: (folder / name, build_pdf(folder / name, make())) for name, make in PDF_SPECS.items()}


@pytest.fixture(scope="module")
def imported(pdfs: dict[str, tuple[Path, DocSpec]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a content folder the PDFs were imported into."""
    content = tmp_path_factory.mktemp("imported") / "content"
    args = ["import", *(str(p) for p, _ in pdfs.values()), "--content", str(content),
            "--publisher", "Test Partnership"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return content


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout  # stderr has the progress bar


def front(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("\n---\n")[0].lstrip("-\n"))


def by_text(passages: tuple[Passage, ...]) -> dict[str, Passage]:
    return {p.text: p for p in passages}


@pytest.mark.parametrize("name", list(PDF_SPECS))
def test_pdf_passages_come_back_word_for_word_on_their_pages(name: str, pdfs, imported: Path) -> None:
    spec = pdfs[name][1]
    report = parse_report(imported / f"{slugify(Path(name).stem)}.md")
    found = by_text(report.passages)
    for kind, text, page, end in expected_passages(spec):
        assert text in found, f"missing passage: {text[:70]!r}"
        p = found[text]
        assert (p.kind, p.page, p.page_end) == (kind, page, end), text[:70]
        label = spec.label(page)
        assert p.page_label == (label if label != str(page) else None)
    # Nothing else: no running headers, page numbers or fragments of broken paragraphs.
    assert len([p for p in report.passages if p.kind != "fact"]) == len(expected_passages(spec))


def test_the_fixtures_cover_the_hard_cases(pdfs) -> None:
    items = [it for _, spec in pdfs.values() for it in spec.items]
    assert any(it.page_end and it.page_end != it.page for it in items)  # a paragraph across a page break
    assert any("\ufb01" in it.markup for it in items) and any("-<br/>" in it.markup for it in items)
    assert any(it.notes for it in items) and any(it.kind == "table" for it in items)
    assert pdfs["holloway-learning.pdf"][1].roman_pages == 2
    # A table whose header is at the foot of one page and whose rows are on the next.
    assert any(it.kind == "table" and it.drawn_from and it.drawn_from < it.row_pages[-1]
               for it in pdfs["long-review.pdf"][1].items)


@pytest.mark.parametrize("name", list(PDF_SPECS))
def test_no_running_text_and_headings_keep_their_levels(name: str, pdfs, imported: Path) -> None:
    spec = pdfs[name][1]
    md_path = imported / f"{slugify(Path(name).stem)}.md"
    report = parse_report(md_path)
    body = md_path.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    assert spec.header not in body.splitlines() and "Page 1 of" not in body
    assert not re.search(r"^\s*(\d+|[ivx]+)\s*$", body, re.MULTILINE)  # no bare page numbers
    headings = [(int(lvl), unescape(text)) for lvl, text in re.findall(r"<h(\d)[^>]*>(.*?)</h\1>", report.html)]
    assert headings == [(it.level, it.text) for it in spec.items if it.kind == "heading"]
    pages = [int(n) for n in re.findall(r'<h\d data-page="(\d+)"', report.html)]
    assert pages == [it.page for it in spec.items if it.kind == "heading"]


def test_numbered_paragraphs_ligatures_hyphens_and_footnotes(imported: Path) -> None:
    md = (imported / "marlowe-review-2024.md").read_text(encoding="utf-8")
    texts = by_text(parse_report(imported / "marlowe-review-2024.md").passages)
    assert "\n4\\. The assessment of the family's needs" in md  # the number is kept, not a list
    assert "4. The assessment of the family's needs was never completed and the multi-agency plan" in " ".join(texts)
    assert "final findings were flagged" in md and "\ufb01" not in md
    assert "in 2024.[^1] The panel" in md  # the reference is a footnote, not "2024.1"
    note = texts["HM Government, Working Together to Safeguard Children, 2023."]
    assert note.kind == "footnote" and note.page == 1


def test_front_matter_flags_first_then_document_metadata(pdfs, imported: Path, tmp_path: Path) -> None:
    meta = front(imported / "marlowe-review-2024.md")
    path, spec = pdfs["Marlowe Review 2024.pdf"]
    assert meta["title"] == spec.title and meta["publisher"] == "Test Partnership"
    assert meta["needs_review"] == ["title", "published"]  # taken from the PDF, so to be checked
    assert meta["pages"] == max(it.page_end or 0 for it in spec.items)
    assert (imported / meta["source_file"]).read_bytes() == path.read_bytes()
    assert meta["source_file"] == "sources/marlowe-review-2024.pdf" and len(meta["source_sha256"]) == 64
    code, _ = invoke("import", str(path), "--content", str(tmp_path), "--title", "Child M",
                     "--published", "2024-05-01", "--source-url", "https://example.org/m.pdf")
    meta = front(tmp_path / "marlowe-review-2024.md")
    assert code == 0 and meta["title"] == "Child M" and str(meta["published"]) == "2024-05-01"
    assert meta["author"] == "Marlowe Safeguarding Partnership" and meta["needs_review"] == ["author"]
    assert meta["source_url"] == "https://example.org/m.pdf"
    # Two-column fixture: no title or author in its metadata; the cover's largest text is the title.
    meta = front(imported / "holloway-learning.md")
    assert meta["title"] == "Learning from the Holloway Review" and "title" in meta["needs_review"]


def test_reimport_is_byte_identical_and_unchanged_files_are_skipped(pdfs, imported: Path, tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(imported, content)
    before = {p.name: p.read_bytes() for p in content.glob("*.md")}
    files = [str(p) for p, _ in pdfs.values()]
    code, out = invoke("import", *files, "--content", str(content), "--publisher", "Test Partnership")
    assert code == 0 and len(re.findall(r"^skipped ", out, re.MULTILINE)) == len(files)
    assert f"0 imported, {len(files)} skipped, 0 failed" in out
    code, out = invoke("import", *files, "--content", str(content), "--publisher", "Test Partnership", "--force")
    assert code == 0 and f"{len(files)} imported" in out
    assert {p.name: p.read_bytes() for p in content.glob("*.md")} == before


def test_bad_files_are_named_and_the_rest_imported(pdfs, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    bad = bad_files(folder)
    shutil.copy(pdfs["Marlowe Review 2024.pdf"][0], folder / "good.pdf")
    code, out = invoke("import", str(folder), "--content", str(tmp_path / "content"), "--publisher", "P")
    assert code == 1
    lines = out.strip().splitlines()
    reasons = {"encrypted.pdf": "password", "corrupt.pdf": "not a readable PDF", "empty.pdf": "empty",
               "scanned.pdf": "no text layer"}
    for name, reason in reasons.items():
        [line] = [ln for ln in lines if str(bad[name]) in ln]
        assert line.startswith("error: ") and reason in line
    assert (tmp_path / "content" / "good.md").is_file()
    assert lines[-1] == "1 imported, 0 skipped, 4 failed (5 files)"


def test_word_document(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "Carver Review.docx")
    code, out = invoke("import", str(path), "--content", str(tmp_path / "c"))
    assert code == 0, out
    md_path = tmp_path / "c" / "carver-review.md"
    report = parse_report(md_path)
    got = [(p.kind, p.text) for p in report.passages if p.kind != "fact"]
    assert got == DOCX_PASSAGES and all(p.page is None for p in report.passages)
    headings = [(int(lvl), unescape(t)) for lvl, t in re.findall(r"<h(\d)[^>]*>(.*?)</h\1>", report.html)]
    assert headings == DOCX_HEADINGS
    meta = front(md_path)
    assert meta["author"] == "Carver Safeguarding Children Partnership" and "pages" not in meta
    assert set(meta["needs_review"]) >= {"title", "author"}


def test_web_page_keeps_only_the_main_content(tmp_path: Path) -> None:
    path = write_html(tmp_path / "Holloway Review.html")
    code, out = invoke("import", str(path), "--content", str(tmp_path / "c"))
    assert code == 0, out
    md_path = tmp_path / "c" / "holloway-review.md"
    report = parse_report(md_path)
    assert [(p.kind, p.text) for p in report.passages if p.kind != "fact"] == HTML_PASSAGES
    body = md_path.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    assert not [b for b in HTML_BOILERPLATE if b in body]
    meta = front(md_path)
    assert (meta["title"], meta["publisher"], str(meta["published"])) == (
        "The Holloway Review", "Example Council", "2023-05-04")
    assert meta["needs_review"] == ["title", "publisher", "published"]


def test_slugs_for_imports_and_hand_written_files(tmp_path: Path) -> None:
    assert slugify("Marlowe Review 2024") == "marlowe-review-2024"
    assert slugify("Report-A") == "report-a" and slugify("Éclair_notes (final)") == "eclair_notes-final"
    content = tmp_path / "content"
    content.mkdir()
    (content / "Report-A.md").write_text("---\ntitle: A\npublisher: P\n---\n\nText.\n", encoding="utf-8")
    assert parse_report(content / "Report-A.md").id == "report-a"
    (content / "report a.md").write_text("---\ntitle: B\npublisher: P\n---\n\nOther.\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"duplicate report id 'report-a'.*Report-A\.md|report a\.md.*Report-A"):
        build_index(content, tmp_path / "index")


def test_markdown_import_keeps_its_original_out_of_the_index(tmp_path: Path) -> None:
    src = tmp_path / "Notes on M.md"
    src.write_text("# Notes on M\n\nThe panel met twice.\n", encoding="utf-8")
    content = tmp_path / "content"
    code, out = invoke("import", str(src), "--content", str(content), "--publisher", "P")
    assert code == 0, out
    assert (content / "sources" / "notes-on-m.md").read_bytes() == src.read_bytes()
    build_index(content, tmp_path / "index")  # sources/notes-on-m.md would be a duplicate id
    report = parse_report(content / "notes-on-m.md")
    assert [p.text for p in report.passages if p.kind == "paragraph"] == ["The panel met twice."]


def test_import_then_build_then_ask_finds_the_page(pdfs, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    for path, _ in pdfs.values():
        shutil.copy(path, folder / path.name)
    content, index = tmp_path / "content", tmp_path / "index"
    assert invoke("import", str(folder), "--content", str(content), "--publisher", "P")[0] == 0
    assert invoke("index", "build", "--content", str(content), "--index", str(index))[0] == 0
    code, out = invoke("ask", "Should the partnership make sure that fathers and partners are seen?",
                       "--json", "--index", str(index))
    assert code == 0, out
    citation = json.loads(out)["findings"][0]["citation"]
    assert citation["report_id"] == "marlowe-review-2024"
    passage = {p.id: p for p in parse_report(content / "marlowe-review-2024.md").passages}[citation["passage_id"]]
    item = next(it for it in pdfs["Marlowe Review 2024.pdf"][1].items if it.text.startswith("8. The partnership"))
    assert passage.text == item.text and passage.page == item.page == 2
    # The citation says the page, the CLI prints "p. 2", and the original opens there.
    assert citation["page"] == 2 and citation["original_url"] == "/reports/marlowe-review-2024/source#page=2"
    code, text = invoke("ask", "Should the partnership make sure that fathers and partners are seen?",
                        "--index", str(index))
    assert "p. 2" in text and "original: /reports/marlowe-review-2024/source#page=2" in text
    client = create_app({"INDEX_DIR": str(index), "CONTENT_DIR": str(content)}).test_client()
    with client.get("/reports/marlowe-review-2024/source") as original:
        assert original.status_code == 200 and original.mimetype == "application/pdf"
        assert original.data == (folder / "Marlowe Review 2024.pdf").read_bytes()
    page = client.get("/reports/marlowe-review-2024").get_data(as_text=True)
    assert 'data-page="2"' in page  # the margin shows each passage's page
    api = client.post("/api/ask", json={"question": "Should the partnership make sure that fathers are seen?"})
    assert api.get_json()["findings"][0]["citation"]["page"] == 2
    assert client.get("/reports/marlowe-review-2024-nope/source").status_code == 404


def _words(text: str) -> Counter[str]:
    text = re.sub(r"-\s*\n\s*(?=[a-z])", "", text.replace("\ufb01", "fi").replace("\ufb02", "fl"))
    return Counter(re.findall(r"[a-z0-9]+", text.lower().replace("-", "")))


@pytest.mark.parametrize("name", list(PDF_SPECS))
def test_word_recall_against_pdfium_text(name: str, pdfs, imported: Path) -> None:
    path, spec = pdfs[name]
    doc = pypdfium2.PdfDocument(str(path))
    count = len(doc)
    raw = "\n".join(doc[i].get_textpage().get_text_range() for i in range(count))
    doc.close()
    running = {spec.header} | {f"Page {n} of {count}" for n in range(1, 9)} | {spec.label(n) for n in range(1, 9)}
    raw = "\n".join(ln for ln in raw.splitlines() if ln.strip() not in running)
    report = parse_report(imported / f"{slugify(Path(name).stem)}.md")
    ours = _words(" ".join([p.text for p in report.passages if p.kind != "fact"]
                           + re.findall(r"<h\d[^>]*>(.*?)</h\d>", report.html)))
    ref = _words(raw)
    recall = sum(min(n, ours[w]) for w, n in ref.items()) / sum(ref.values())
    assert recall >= 0.99, recall


def test_items_are_the_spec_shape() -> None:
    assert Item("paragraph", "x").source == "x" and Item("paragraph", "x", markup="<b>x</b>").source == "<b>x</b>"


def test_an_id_taken_by_another_source_is_refused(pdfs, tmp_path: Path) -> None:
    content = tmp_path / "content"
    path = pdfs["Marlowe Review 2024.pdf"][0]
    assert invoke("import", str(path), "--content", str(content), "--publisher", "P")[0] == 0
    other = write_docx(tmp_path / "Marlowe Review 2024.docx")
    code, out = invoke("import", str(other), "--content", str(content))
    assert code == 1 and "report id 'marlowe-review-2024' is taken by" in out
    (content / "hand.md").write_text("---\ntitle: H\npublisher: P\n---\n\nText.\n", encoding="utf-8")
    code, out = invoke("import", str(path), "--content", str(content), "--id", "hand", "--publisher", "P")
    assert code == 1 and "exists and was not imported" in out
    assert (content / "hand.md").read_text(encoding="utf-8").endswith("Text.\n")
