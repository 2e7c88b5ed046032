"""Put the generated key reference (media_tool.commands.reference) into README.md, between its markers."""

from __future__ import annotations

from pathlib import Path

from media_tool.commands import reference

README = Path(__file__).resolve().parent.parent / "README.md"


def main() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(reference.BEGIN), text.index(reference.END) + len(reference.END)
    README.write_text(text[:start] + reference.markdown() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
