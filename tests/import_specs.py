"""The fixture documents' contents: what each generated PDF says, and so what import must give."""

from __future__ import annotations

from tests.pdf_fixtures import DocSpec, Item

SENTENCES = [
    "The panel met six times between March and November and read the records of every agency involved.",
    "Practitioners described a family that was hard to reach and often moved between addresses.",
    "Health visitors recorded concerns about weight loss but did not share them with children's social care.",
    "The school noticed that the child was frequently absent on Mondays and after holidays.",
    "Police attended the home twice in response to reports of domestic abuse from neighbours.",
    "Nobody asked who else lived in the household or what part the mother's partner played in caring.",
    "Referrals were closed when the family did not answer letters offering an appointment.",
    "The review heard that supervision rarely left time to reflect on cases that had stalled.",
    "Information held by the housing provider would have shown that rent arrears were rising quickly.",
    "Managers accepted assurances from the parents without checking them against what others had seen.",
    "Written plans named actions but rarely said who would carry them out or by when.",
    "The panel thanks the wider family for speaking openly about a painful time.",
]


def prose(start: int, count: int) -> str:
    """Return `count` sentences of filler prose, starting at sentence `start`."""
    return " ".join(SENTENCES[(start + i) % len(SENTENCES)] for i in range(count))


def one_column() -> DocSpec:
    """A single-column report: numbered paragraphs, bullets, a table, a footnote, hyphens, ligatures."""
    items = [
        Item("heading", "Serious Case Review: Child M", level=1),
        Item("paragraph", "This report was commissioned by the Marlowe Safeguarding Partnership in 2024."),
        Item("heading", "1. Introduction", level=2),
        Item("paragraph", "1. The review considers the period from the child's birth until the incident. "
             + prose(0, 3)),
        Item("paragraph", "2. The final findings were flagged to the partnership before publication. " + prose(3, 2),
             markup="2. The \ufb01nal \ufb01ndings were \ufb02agged to the partnership before publication. "
             + prose(3, 2)),
        Item("paragraph", "3. A multi-agency meeting agreed the terms of reference. " + prose(5, 2)),
        Item("heading", "2. What the panel found", level=2),
        Item("paragraph", "4. The assessment of the family's needs was never completed and the multi-agency "
             "plan was not reviewed. " + prose(7, 1),
             markup="4. The assess-<br/>ment of the family's needs was never completed and the multi-<br/>agency "
             "plan was not reviewed. " + prose(7, 1)),
        Item("paragraph", "5. Working Together guidance was not followed in 2024. The panel noted three gaps:",
             markup="5. Working Together guidance was not followed in 2024.<super>1</super> "
             "The panel noted three gaps:", notes=(("1", "HM Government, Working Together to Safeguard Children, 2023."),)),
        Item("list_item", "records were not shared between the health visitor and the school;"),
        Item("list_item", "the father was not invited to any meeting;"),
        Item("list_item", "nobody checked the address history."),
        Item("heading", "Findings about the father", level=3),
        Item("paragraph", "6. " + prose(2, 9)),
        Item("paragraph", "7. " + prose(6, 14)),
        Item("table", rows=(("Agency", "Contacts", "Referrals"), ("Health visiting", "14", "2"),
                            ("School", "31", "1"), ("Police", "2", "0"))),
        Item("heading", "3. Recommendations", level=2),
        Item("paragraph", "8. The partnership should make sure that fathers and partners are seen. " + prose(4, 6)),
        Item("paragraph", "9. " + prose(9, 12)),
        Item("paragraph", "10. The partnership should report on progress within six months."),
    ]
    return DocSpec(items, title="Marlowe Review 2024: Child M", author="Marlowe Safeguarding Partnership")


def two_column() -> DocSpec:
    """A two-column report with roman-numbered front matter and a paragraph across columns and pages."""
    items = [
        Item("heading", "Learning from the Holloway Review", level=1),
        Item("paragraph", "A thematic review of neglect in the Holloway area."),
        Item("pagebreak"),
        Item("heading", "Summary", level=2),
        Item("paragraph", prose(1, 5)),
        Item("columns"),
        Item("heading", "Background", level=2),
    ]
    for n in range(1, 9):
        items.append(Item("paragraph", f"{n}. " + prose(n, 4 + (n % 3) * 3)))
        if n == 3:
            items.append(Item("heading", "Early help", level=3))
        if n == 6:
            items += [Item("list_item", "a shared chronology for every family;"),
                      Item("list_item", "joint visits when a referral is repeated.")]
    items.append(Item("heading", "Conclusion", level=2))
    items.append(Item("paragraph", "9. " + prose(0, 12)))
    items.append(Item("paragraph", "10. The partnership accepted every recommendation."))
    return DocSpec(items, header="Holloway Review", footer="label", roman_pages=2)


def long_report(sections: int, columns: bool, seed: int = 0) -> DocSpec:
    """A longer report for the benchmark: numbered sections with bullets, tables and footnotes."""
    items = [Item("heading", f"Thematic Review {seed + 1}: learning from practice", level=1),
             Item("paragraph", "Published by the Example Safeguarding Partnership.")]
    if columns:
        items.append(Item("columns"))
    n = 0
    for s in range(sections):
        items.append(Item("heading", f"Part {s + 1}: what the records show", level=2))
        for k in range(3):
            n += 1
            text = f"{n}. " + prose(seed + s + k, 3 + (s + k) % 5)
            if (s + k) % 7 == 3:
                note = (str(n), f"Source note {n}: agency records seen by the panel.")
                items.append(Item("paragraph", text, markup=text + f"<super>{n}</super>", notes=(note,)))
            else:
                items.append(Item("paragraph", text))
        if s % 3 == 1:
            items += [Item("list_item", f"the agencies in part {s + 1} did not meet;"),
                      Item("list_item", f"the plan for part {s + 1} had no owner.")]
        if s % 4 == 2 and not columns:
            items.append(Item("table", rows=(("Agency", "Contacts"), (f"School {s}", str(10 + s)),
                                             (f"Police {s}", str(s)))))
    return DocSpec(items, header=f"Thematic Review {seed + 1}", footer="page-of" if not columns else "label")
