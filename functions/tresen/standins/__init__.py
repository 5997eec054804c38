"""Stand-ins for outside services that cannot be reached from here; for dev mode and the tests only."""
