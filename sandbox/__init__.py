"""Offline accounts: the SQLite store, the seeded generator, the imported reports and the API emulators."""

GOOGLE_ACCOUNT = "sandbox:trailhead"
META_ACCOUNT = "sandbox:trailhead-meta"
