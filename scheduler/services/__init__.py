"""Service functions: primitives in, frozen dataclasses out, one unit of work per call."""
