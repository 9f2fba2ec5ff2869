"""loopml.registry."""
