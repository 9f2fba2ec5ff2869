"""loopml.serve."""
