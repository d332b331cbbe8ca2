"""The Valora conformance suite: `pytest conformance` in a clone, `valora-spec conformance` anywhere."""
