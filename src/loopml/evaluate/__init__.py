"""loopml.evaluate."""
