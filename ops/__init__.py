"""What runs around the graphs: the one apply path, the change log, tracing, reports."""
