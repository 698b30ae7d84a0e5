"""The UI's pages, one module per area: sign-in, catalogue, actors, connections, jobs, settings."""
