"""The HTTP API: Airbyte's public API under /api/public/v1 (and /v1), the older config API under /api/v1."""
