"""Tests of the built-in mysql source against the real MariaDB server."""
