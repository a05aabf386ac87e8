"""The pipeline as pure, synchronous functions, named by stage. No I/O, no frameworks."""
