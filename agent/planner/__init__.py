"""The offline planner: a scikit-learn intent classifier and slot extraction, as a chat model."""
