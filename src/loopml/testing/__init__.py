"""loopml.testing."""
