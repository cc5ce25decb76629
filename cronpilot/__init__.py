"""The top floor: the command line, `cronpilot check` and the composition root."""

from core import __version__

__all__ = ["__version__"]
