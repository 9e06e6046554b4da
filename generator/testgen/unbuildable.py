"""The one error a test builder raises for a valid spec it cannot write a sound test for."""

from __future__ import annotations


class Unbuildable(ValueError):
    """No sound promtool test can be written for this spec as it is (for example an expected annotation
    whose text a rounding error in the last bits of a value could change). The message says why;
    `render` adds the service and file."""
