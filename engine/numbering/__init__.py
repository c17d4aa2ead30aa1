"""Russian numbering-plan registry: ranges, regions, time zones."""
