"""Built-in connectors, one package each, found through the same entry-point registry as third-party ones."""
