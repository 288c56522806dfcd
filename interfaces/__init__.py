"""Interfaces: the `spm` CLI, terminal chat, batch runner and Slack app (the composition root)."""
