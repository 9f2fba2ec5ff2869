"""loopml: the machine-learning lifecycle of tabular business models as one loop."""

__version__ = "0.1.0"
