"""From a validated scenario to a plan: agent ids, addresses, strategies, seeds, and
the run directory it runs in (``prepare``)."""
