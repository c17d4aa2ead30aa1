"""Campaign runners: the greenlets that turn dialable numbers into calls, one per campaign."""
