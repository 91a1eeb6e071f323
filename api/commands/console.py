"""Consoles for the command line: tables that stay readable when the output is not a terminal.

Rich lays a table out to the terminal's width, and to 80 columns when the output is a pipe or a
file, where it wraps every cell of a wide table over several lines (`comptune bench > out.txt`,
`comptune recommend | less`). `TableConsole` keeps the terminal's width on a terminal and is at
least `PIPE_WIDTH` columns wide otherwise (or `COLUMNS`, when that is wider), so one table row is
one line.
"""

from __future__ import annotations

from rich.console import Console, ConsoleDimensions

PIPE_WIDTH = 200


class TableConsole(Console):
    """A rich Console whose width, off a terminal, is wide enough not to wrap a table."""

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)
        if self.is_terminal or self._width is not None:
            return size
        return ConsoleDimensions(max(size.width, PIPE_WIDTH), size.height)

    @size.setter
    def size(self, new_size) -> None:
        Console.size.fset(self, new_size)
