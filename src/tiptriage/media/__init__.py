"""Media: hashing files, hash banks, matching against them (PDQ index), retro-matching."""
