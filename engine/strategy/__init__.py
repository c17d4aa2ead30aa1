"""Which contact and which phone to dial next, and why not the others (pure functions)."""
