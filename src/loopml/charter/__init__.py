"""loopml.charter."""
