"""Airbyte's public API (what the `airbyte-api` SDK calls), one router per resource."""
