"""The UI's pages, one module per area: sign-in, catalogue, sources and destinations, connections, jobs, settings."""
