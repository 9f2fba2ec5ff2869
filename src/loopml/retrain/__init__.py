"""loopml.retrain."""
