"""Outbound dialer for FreeSWITCH: the daemon and its domain code."""

__version__ = "0.1.0"
