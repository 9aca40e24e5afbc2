"""The pieces of ``scripts/bench``: load generator, processes, peers, report."""
