"""A Markdown table as text for a monospace block: columns aligned as the table asks (left,
right, centre) by the width each character takes on screen, so a table with CJK text or emoji
stays straight.

telegramify-markdown pads cells by their count of code points and left-aligns every column;
wcwidth says how many columns a character takes in a monospace font.
"""

from __future__ import annotations

from collections.abc import Sequence

from wcwidth import wcswidth

# pulldown-cmark's names for a column's alignment; "None" (no colon) is left.
RIGHT, CENTER = "Right", "Center"


def width(text: str) -> int:
    """Columns `text` takes on screen (a character wcwidth cannot measure counts as one)."""
    measured = wcswidth(text)
    if measured >= 0:
        return measured
    return sum(max(wcswidth(character), 1) for character in text)


def _pad(cell: str, columns: int, alignment: str) -> str:
    room = columns - width(cell)
    if alignment == RIGHT:
        return " " * room + cell
    if alignment == CENTER:
        return " " * (room // 2) + cell + " " * (room - room // 2)
    return cell + " " * room


def aligned(rows: Sequence[Sequence[str]], alignments: Sequence[str] = ()) -> str:
    """The rows (the header first) as lines of cells joined by " | ", a rule under the header,
    each column padded to its widest cell; no line ends in spaces."""
    if not rows:
        return ""
    count = max(len(row) for row in rows)
    cells = [[" ".join(cell.split()) for cell in row] + [""] * (count - len(row)) for row in rows]
    widths = [max(width(row[column]) for row in cells) for column in range(count)]
    kinds = list(alignments)[:count] + ["Left"] * (count - len(alignments))
    lines = []
    for index, row in enumerate(cells):
        padded = (_pad(cell, widths[column], kinds[column]) for column, cell in enumerate(row))
        lines.append(" | ".join(padded).rstrip())
        if index == 0 and len(cells) > 1:
            lines.append("-+-".join("-" * columns for columns in widths))
    return "\n".join(lines)
