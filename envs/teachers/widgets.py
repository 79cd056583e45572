"""Teachers: widgets."""

from __future__ import annotations
