"""One blueprint per screen."""
