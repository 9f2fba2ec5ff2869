"""Training: candidates, baselines, cross-validation, tuning and selection."""

from loopml.train._bundle import ModelBundle, Task, probability_column

__all__ = ["ModelBundle", "Task", "probability_column"]
