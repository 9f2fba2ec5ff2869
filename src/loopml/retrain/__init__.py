"""Retraining: the champion/challenger promotion rule (triggers and policies build on it)."""

from loopml.retrain._decision import Decision, decide

__all__ = ["Decision", "decide"]
