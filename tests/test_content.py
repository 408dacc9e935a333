"""Parsing reports: front matter, passages, stable ids, and precise errors for bad files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_service.ingest.content import ContentError, parse_report
from qa_service.search.builder import build_index
from tests.conftest import BUNDLED, write_report

SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds" / "000_111c22fb5343254c.txt"


def test_bundled_report_has_catalogue_facts() -> None:
    report = parse_report(BUNDLED / "ages-of-concern.md")
    assert report.id == "ages-of-concern"
    assert report.title.startswith("Ages of concern: learning lessons from serious case reviews")
    assert report.published == dt.date(2011, 10, 26)
    assert "Office for Standards in Education" in report.publisher
    assert report.subjects == ("Children and Young People", "Social welfare")
    kinds = [p.kind for p in report.passages]
    assert kinds.count("paragraph") == 3 and "table_row" in kinds and "fact" in kinds
    assert [p.ordinal for p in report.passages] == list(range(1, len(report.passages) + 1))


@pytest.mark.skipif(not SEED.is_file(), reason="the seed text lives beside the project, in shared/")
def test_bundled_paragraphs_are_verbatim_from_the_seed() -> None:
    seed = SEED.read_text(encoding="utf-8")
    report = parse_report(BUNDLED / "ages-of-concern.md")
    for passage in report.passages:
        if passage.kind == "paragraph":
            assert passage.text in seed


def test_passages_carry_heading_path_and_anchor_in_html(tmp_path: Path) -> None:
    path = write_report(tmp_path, "r", "# Top\n\nIntro text.\n\n## Part two\n\n### Detail\n\nDeep text.\n")
    report = parse_report(path)
    intro, deep = [p for p in report.passages if p.kind == "paragraph"]
    assert intro.headings == ("Top",) and deep.headings == ("Top", "Part two", "Detail")
    assert deep.section == "Top › Part two › Detail"
    assert f'id="{deep.anchor}"' in report.html


def test_list_items_table_rows_and_quotes_are_passages(tmp_path: Path) -> None:
    body = ("- first item\n- second item\n    - nested item\n\n"
            "| Name | Age |\n| --- | --- |\n| Ann | 4 |\n\n> A quoted line.\n> Still quoted.\n")
    report = parse_report(write_report(tmp_path, "r", body))
    texts = {p.kind: [] for p in report.passages}
    for p in report.passages:
        texts[p.kind].append(p.text)
    assert texts["list_item"] == ["first item", "second item", "nested item"]
    assert texts["table_row"] == ["Ann | 4"]
    assert texts["quote"] == ["A quoted line. Still quoted."]


def test_unchanged_text_keeps_its_id_when_other_text_changes(tmp_path: Path) -> None:
    before = parse_report(write_report(tmp_path, "r", "# H\n\nAlpha para.\n\nBeta para.\n"))
    after = parse_report(write_report(tmp_path, "r", "# New heading\n\nInserted para.\n\nAlpha para.\n\nBeta para changed.\n"))
    ids_before = {p.text: p.id for p in before.passages}
    ids_after = {p.text: p.id for p in after.passages}
    assert ids_after["Alpha para."] == ids_before["Alpha para."]
    assert ids_after["Beta para changed."] != ids_before["Beta para."]


def test_repeated_text_gets_distinct_ids(tmp_path: Path) -> None:
    report = parse_report(write_report(tmp_path, "r", "Same words.\n\nSame words.\n"))
    ids = [p.id for p in report.passages if p.kind == "paragraph"]
    assert len(set(ids)) == 2


def test_raw_html_is_not_passage_text(tmp_path: Path) -> None:
    report = parse_report(write_report(tmp_path, "r", "Safe text <script>alert(1)</script> here.\n"))
    para = [p for p in report.passages if p.kind == "paragraph"][0]
    assert "script" not in para.text and "Safe text" in para.text


@pytest.mark.parametrize(
    ("raw", "message", "line"),
    [
        (b"", "file is empty", None),
        (b"   \n\n", "file is empty", None),
        (b"no front matter\n", "missing front matter", 1),
        (b"---\ntitle: x\npublisher: y\n", "not closed", 1),
        (b"---\ntitle: [unclosed\npublisher: y\n---\ntext\n", "malformed front matter", 2),
        (b"---\ntitle: ok\n  bad: indent\n---\ntext\n", "malformed front matter", 3),
        (b"---\npublisher: y\n---\ntext\n", "needs a 'title'", 2),
        (b"---\ntitle: t\n---\ntext\n", "needs a 'publisher'", 2),
        (b"---\ntitle: t\npublisher: p\npublished: 26/10/2011\n---\ntext\n", "ISO date", 4),
        (b"---\ntitle: t\npublisher: p\npublished: 2020-13-45\n---\ntext\n", "ISO date", 4),
        (b"---\ntitle: t\npublisher: p\npublished: 2020-02-30 10:00\n---\ntext\n", "ISO date", 4),
        (b"---\ntitle: t\npublisher: p\n---\n\n", "no text", None),
        (b"---\ntitle: t\npublisher: p\n---\nline two\n\xff\xfe bad\n", "not UTF-8", 6),
        (b"---\n- a list\n---\ntext\n", "mapping", 2),
    ],
)
def test_bad_files_name_file_and_line(tmp_path: Path, raw: bytes, message: str, line: int | None) -> None:
    path = tmp_path / "bad.md"
    path.write_bytes(raw)
    with pytest.raises(ContentError) as info:
        parse_report(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.line == line


def test_duplicate_report_ids_are_refused(tmp_path: Path) -> None:
    write_report(tmp_path / "content", "one", "Text one.", extra="id: same\n")
    write_report(tmp_path / "content", "two", "Text two.", extra="id: same\n")
    with pytest.raises(ContentError, match=r"two\.md: duplicate report id 'same' \(also used by .*one\.md\)"):
        build_index(tmp_path / "content", tmp_path / "index")


FRONT_VALUES = st.one_of(st.text(max_size=20), st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
                         st.sampled_from(["2011-10-26", "2020-13-45", "[unclosed", "{a: 1}", "- x", "!!python/name:os.system",
                                          "&anchor", "*alias", "'quoted", "2011-10-26T10:00:00Z", "0x1F", ".nan"]))


@settings(max_examples=300, deadline=None)
@given(keys=st.lists(st.sampled_from(["title", "publisher", "author", "published", "subjects", "id", "summary",
                                      "example_questions", "source_url", "other"]), max_size=6),
       values=st.lists(FRONT_VALUES, min_size=6, max_size=6),
       body=st.text(max_size=200))
def test_any_front_matter_gives_a_report_or_a_content_error(tmp_path_factory, keys, values, body) -> None:
    lines = [f"{k}: {v}" for k, v in zip(keys, values)]
    path = tmp_path_factory.mktemp("fuzz") / "r.md"
    path.write_text("---\n" + "\n".join(lines) + "\n---\n" + body, encoding="utf-8")
    try:
        report = parse_report(path)
    except ContentError as exc:
        assert str(path) in str(exc)
    else:
        assert report.title and report.publisher and report.passages


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=300))
def test_any_bytes_give_a_report_or_a_content_error(tmp_path_factory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzzb") / "r.md"
    path.write_bytes(raw)
    try:
        parse_report(path)
    except ContentError:
        pass
