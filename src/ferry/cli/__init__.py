"""Command-line interfaces: `ferry` and `ferry-connector`."""
