"""Examples of usertrail in other tools, each run by a test (tests/examples/)."""
