"""The Acme Reports demo: a small SaaS served by usertrail at /demo, as its own project."""
