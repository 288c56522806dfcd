"""Planning tools (forecast, quota, territory, capacity, metrics, data checks): each a pure
kernel, a loader with its SQL, and typed input and result models."""
