"""Application core: persistence, services, calendar and jobs (no Flask, no marshmallow)."""
