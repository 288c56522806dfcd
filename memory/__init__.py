"""Memory of planning decisions and notes: a chromadb store with an offline embedding."""
