"""The async shell, one module per stage. No SQL, no HTTP types."""
