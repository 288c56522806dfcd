"""Prompts and example utterances, kept as text and YAML files next to this module."""
