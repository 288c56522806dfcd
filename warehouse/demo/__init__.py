"""A seeded generator of a believable B2B software company (the embedded demo warehouse)."""
