"""Who acts: identities, their roles and units (for the CLI from a local accounts file or the
environment; the web application establishes the same `Actor` from a login)."""
