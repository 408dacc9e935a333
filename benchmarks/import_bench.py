"""`make bench-import`: import generated PDFs; pages/s, word recall against pdftotext, right pages.

The PDFs are made here with reportlab from the specifications in tests/import_specs.py, which are
also the expected output: each passage's words and the physical page it starts (and ends) on.
Recall is per document against poppler's `pdftotext` text, with running headers and footers
(lines recurring at the top or bottom of half the pages, digits masked) and page numbers removed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_service.ingest.content import parse_report
from qa_service.ingest.importer import Options, import_paths
from tests.import_specs import long_report, one_column, two_column
from tests.pdf_fixtures import DocSpec, build_pdf, expected_passages

PAGE_NO = re.compile(r"^(page\s+)?(\d+|[ivxlcdm]+)(\s+of\s+\d+)?$", re.IGNORECASE)


def specs() -> dict[str, DocSpec]:
    """Return the benchmark's documents by file name."""
    return {"one-column.pdf": one_column(), "two-column.pdf": two_column(),
            "long-one-column.pdf": long_report(24, columns=False, seed=1),
            "long-two-column.pdf": long_report(30, columns=True, seed=2),
            "long-one-column-b.pdf": long_report(40, columns=False, seed=3)}


def words(text: str) -> Counter[str]:
    """Return the words of a text, hyphens and line-end hyphenation ignored, ligatures expanded."""
    text = text.replace("\ufb01", "fi").replace("\ufb02", "fl")
    text = re.sub(r"-\s*\n\s*(?=[a-z])", "", text)
    return Counter(re.findall(r"[a-z0-9]+", text.lower().replace("-", "")))


def reference_text(pdf: Path) -> str:
    """Return pdftotext's text with running headers, footers and page numbers removed."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True)
    pages = [[ln for ln in page.splitlines() if ln.strip()] for page in out.stdout.split("\f")]
    pages = [p for p in pages if p]
    mask = lambda s: re.sub(r"\d+", "#", s.strip().lower())
    edges = Counter(m for p in pages for m in {mask(ln) for ln in p[:2] + p[-2:]})
    need = max(2, (len(pages) + 1) // 2)
    kept = []
    for p in pages:
        for i, ln in enumerate(p):
            at_edge = i < 2 or i >= len(p) - 2
            if at_edge and (edges[mask(ln)] >= need or PAGE_NO.match(ln.strip())):
                continue
            kept.append(ln)
    return "\n".join(kept)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="Folder for the PDFs and Markdown (default: temporary).")
    args = parser.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="bench-import-"))
    pdf_dir, content = work / "pdfs", work / "content"
    pdf_dir.mkdir(parents=True, exist_ok=True)
    built = {name: build_pdf(pdf_dir / name, spec) for name, spec in specs().items()}
    started = time.perf_counter()
    outcomes = import_paths([pdf_dir], Options(content, publisher="Benchmark", force=True))
    seconds = time.perf_counter() - started
    failed = [o.line() for o in outcomes if o.status != "imported"]
    if failed:
        print("\n".join(failed))
        return 1
    total_pages, ok_pages, total_passages, worst = 0, 0, 0, 1.0
    print(f"{'document':<24} {'pages':>5} {'recall':>7} {'passages':>8} {'on page':>8}")
    for name, spec in built.items():
        report = parse_report(content / f"{Path(name).stem}.md")
        found = {p.text: p for p in report.passages}
        want = expected_passages(spec)
        right = sum(1 for kind, text, page, end in want
                    if text in found and (found[text].page, found[text].page_end) == (page, end))
        ours = words(" ".join([p.text for p in report.passages if p.kind != "fact"]
                              + re.findall(r"<h\d[^>]*>(.*?)</h\d>", report.html)))
        ref = words(reference_text(pdf_dir / name))
        recall = sum(min(n, ours[w]) for w, n in ref.items()) / sum(ref.values())
        pages = max(it.page_end or 0 for it in spec.items)
        total_pages += pages
        ok_pages += right
        total_passages += len(want)
        worst = min(worst, recall)
        print(f"{name:<24} {pages:>5} {recall:>7.4f} {len(want):>8} {right / len(want):>8.1%}")
    share = ok_pages / total_passages
    print(f"\n{total_pages} pages in {seconds:.2f} s: {total_pages / seconds:.1f} pages/s "
          f"(goal ≥ 10); lowest recall {worst:.4f} (goal ≥ 0.97); "
          f"passages on the right page {share:.1%} of {total_passages} (goal ≥ 99%)")
    return 0 if total_pages / seconds >= 10 and worst >= 0.97 and share >= 0.99 else 1


if __name__ == "__main__":
    sys.exit(main())
