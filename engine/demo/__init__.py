"""``dialer demo``: the demo tenant, campaign and list, explained, then run against the
built-in switch simulator with the engine and the admin web."""
