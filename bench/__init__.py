"""`make bench`: the load benchmark (see bench/__main__.py)."""
