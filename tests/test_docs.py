"""The README is a front door and the docs/ pages hold the rest: links resolve, the README stays short, and what the
README says of each paper's claims is what REPRODUCTION.md judges."""

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
WORDS = {"reproduces": "reproduce", "partly": "partly", "does not": "do not", "not run": "not run"}


def report_rows():
    """(paper, claim text, verdict cell) of every claim row of the committed REPRODUCTION.md."""
    rows = [r.split(" | ") for r in (ROOT / "REPRODUCTION.md").read_text().splitlines() if r.startswith("| ")]
    return [(r[0][2:], r[2], r[5]) for r in rows if len(r) == 7 and r[5].startswith("**")]


def test_readme_is_short_and_every_docs_page_is_linked_from_it():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 350
    for page in PAGES[1:]:
        assert f"(docs/{page.name})" in readme, f"docs/{page.name} is not linked from the README"


def test_every_link_in_the_readme_and_docs_resolves():
    """Markdown links and images to files of the repository, relative to the page (web links and anchors aside)."""
    bad = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            path = target.split("#")[0]
            if re.match(r"https?:", target) or not path:
                continue
            if not (page.parent / path).exists():
                bad.append(f"{page.relative_to(ROOT)}: {target}")
    assert not bad, "links to nothing:\n" + "\n".join(bad)


def test_the_readmes_count_of_each_papers_verdicts_is_the_reports():
    """`<paper>: N claims: a reproduce, b partly, ...` in the README's table of papers, against REPRODUCTION.md."""
    counts = {}
    for paper, _, verdict in report_rows():
        counts.setdefault(paper, Counter())[verdict.split("**")[1]] += 1
    said = re.findall(r"\| ([^|:]+): (\d+) claims: ([^|(]+)", (ROOT / "README.md").read_text())
    assert {p for p, _, _ in said} == set(counts), "every paper of the report, once"
    for paper, n, rest in said:
        want = ", ".join(f"{counts[paper][v]} {w}" for v, w in WORDS.items() if counts[paper][v])
        assert (int(n), rest.strip()) == (sum(counts[paper].values()), want), paper


def test_docs_cite_every_judged_claim_with_the_reports_verdict():
    """The results pages cite REPRODUCTION.md instead of copying numbers: a line `- REPRODUCTION.md: "<the claim's
    first words>": **<verdict>** (<per seed>)` per claim. Each cited verdict is the committed report's, and every
    claim the report judges (not "not run") is cited on some page: a redrawn report that changes a verdict, or
    judges a claim for the first time, makes the page say so."""
    claims = {text: verdict for _, text, verdict in report_rows()}
    seen = set()
    for page in PAGES:
        cited = re.findall(r'^- REPRODUCTION\.md: "([^"]+)": (\*\*[a-z ]+\*\*(?: \([✓✗ ]+(?:; seed \d+ only)?\))?)$', page.read_text(), re.M)
        for start, verdict in cited:
            match = [text for text in claims if text.replace("\\|", "|").startswith(start)]
            assert len(match) == 1, f"{page.name} cites {start!r}: {len(match)} claims of REPRODUCTION.md start so"
            assert claims[match[0]] == verdict, f"{page.name}: {start!r} {verdict}; REPRODUCTION.md: {claims[match[0]]}"
            seen.add(match[0])
    judged = {text for text, verdict in claims.items() if verdict != "**not run**"}
    assert judged and not judged - seen, f"judged in REPRODUCTION.md, cited nowhere: {judged - seen}"
