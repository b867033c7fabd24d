"""Provenance of a finished clip: a signed C2PA manifest and a fingerprint that survives
re-encoding. Nothing here loads at import in the bot process: c2pa and numpy are imported by
the modules that need them, which only workers (render and light) import."""
