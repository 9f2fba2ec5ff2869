"""loopml.tracking."""
