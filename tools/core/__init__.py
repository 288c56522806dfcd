"""The shared planning core: what every tool uses instead of its own copy.

context (as-of, calendar, meta), periods (one parser for period words), selection (scope +
filters -> SQL), scenario (load, overlay, save a draft), whatif (the one what-if shape),
format (how figures read), coverage (pipeline coverage and what to build), hierarchy and
targets (series trees and the target of any slice). Nothing here imports a tool package.
"""
