"""Use cases of the control plane, each in its own transaction; the API and the executor both call them."""
