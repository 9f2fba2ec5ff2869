"""loopml.reports."""
