"""Every relative link in README.md and docs/*.md points at a file that exists, and every
#anchor at a heading of that file (GitHub's heading ids), so moving or renaming a page or
a section cannot leave the map pointing nowhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Pages linked before they are written (by another change); delete an entry once its page
# exists.

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~)")


def prose(text: str, code_spans: bool = False) -> str:
    """The text outside fenced code blocks, without inline code spans unless asked."""
    lines, in_fence = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            in_fence = not in_fence
            continue
        if not in_fence:
            lines.append(line if code_spans else re.sub(r"`[^`]*`", "", line))
    return "\n".join(lines)


def links(text: str) -> list[str]:
    return LINK.findall(prose(text))


def slug(heading: str) -> str:
    """GitHub's id for a heading: link text kept, lower case, punctuation other than - and
    _ dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip())
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in prose(text, code_spans=True).splitlines():
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for target in links(page.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        rel = dest.relative_to(root).as_posix() if dest.is_relative_to(root) else str(dest)
        if not dest.exists():
            problems.append(f"{target}: no file {rel}")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text()):
            problems.append(f"{target}: no heading #{anchor} in {rel}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_at_existing_files_and_headings(page):
    assert broken_links(page) == []


def test_the_readme_links_every_docs_page():
    linked = {t.partition("#")[0] for t in links((ROOT / "README.md").read_text())}
    pages = {p.relative_to(ROOT).as_posix() for p in PAGES if p.parent.name == "docs"}
    assert pages <= linked, f"docs pages the README does not link: {sorted(pages - linked)}"


def test_the_checker_finds_broken_links(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Title\n\n## A section, with `code`\n")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](docs/a.md) [ok](docs/a.md#a-section-with-code) [ok](#top-1) [web](https://x.y)\n"
        "# Top\n# Top\n"
        "[gone](docs/b.md) [no section](docs/a.md#nowhere) [self](#nowhere)\n"
        "```\n[in code](docs/c.md)\n```\n"
    )
    assert broken_links(page, root=tmp_path) == [
        "docs/b.md: no file docs/b.md",
        "docs/a.md#nowhere: no heading #nowhere in docs/a.md",
        "#nowhere: no heading #nowhere in README.md",
    ]
