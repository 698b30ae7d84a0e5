"""Tests of the built-in postgres source against the real PostgreSQL server."""
