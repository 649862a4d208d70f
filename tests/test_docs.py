"""Every document the code cites is in the repository, and so is every section it names.

Comments cite ``docs/architecture.md, "Outbox and delivery"`` or ``docs/interfaces.md``
with a section in quotes; the old citations of design notes kept outside the
repository ("DESIGN §2", "CONTRACT §4") are gone for good.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("src", "workers", "tests", "bench", "migrations", "templates", "README.md")
SUFFIXES = {".py", ".j2", ".html", ".txt", ".md", ".toml", ".ini", ".po"}
OUTSIDE = re.compile(r"\b(DESIGN|CONTRACT)( §|\.md)")
CITATION = re.compile(r'(docs/[\w-]+\.md)((?:,\s*|\s*\()"([^"]+)"(?:\s*(?:and|,)\s*"([^"]+)")*)?')


def files() -> list[Path]:
    found: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            found.append(path)
        else:
            found += [p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES]
    return [p for p in found if p != Path(__file__).resolve()]


def headings(document: Path) -> set[str]:
    return {
        line.lstrip("#").strip()
        for line in document.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


def test_no_citation_of_a_document_outside_the_repository() -> None:
    offending = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not offending, offending


def test_every_cited_document_and_section_exists() -> None:
    missing: list[str] = []
    for path in files():
        text = re.sub(r"\s*\n\s*(#\s*)?", " ", path.read_text(encoding="utf-8"))
        for match in CITATION.finditer(text):
            document = ROOT / match.group(1)
            if not document.is_file():
                missing.append(f"{path.relative_to(ROOT)}: {match.group(1)}")
                continue
            sections = re.findall(r'"([^"]+)"', match.group(2) or "")
            missing += [
                f"{path.relative_to(ROOT)}: {match.group(1)}, {section!r}"
                for section in sections
                if section not in headings(document)
            ]
    assert not missing, missing


def test_the_readme_points_to_the_documents() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/architecture.md" in readme and "docs/interfaces.md" in readme
