"""Building and rendering the context object: pure functions over stored, normalized data."""
