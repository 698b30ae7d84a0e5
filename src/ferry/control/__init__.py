"""The control plane: config store, secrets, auth, services (use cases) and the REST API of `ferry serve`.

Nothing here is imported by `import ferry`; the server pulls its drivers in only when it starts.
"""
