"""Several instances on one Redis: the shared line of tasks, workers under leases, mirrors
of the sessions other nodes run, and calls between nodes (``node.py`` ties them)."""
