"""The README's short tour runs as written (so what it shows stays true)."""

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_short_tour_runs():
    text = README.read_text()
    tour = text[text.index("## A short tour") :]
    code = tour[tour.index("```python\n") + len("```python\n") :]
    code = code[: code.index("```")]
    assert "import autodiff as ad" in code
    exec(compile(code, "README tour", "exec"), {})
