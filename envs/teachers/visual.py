"""Teachers: visual tasks (shapes, colours, grids, drags)."""

from __future__ import annotations
