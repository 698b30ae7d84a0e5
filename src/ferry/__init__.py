"""Ferry: open-source ELT that speaks the Airbyte protocol."""

__version__ = "0.1.0"
