"""The vocabulary: frozen typed structs shared by every stage. No I/O here."""
