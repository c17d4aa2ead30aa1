"""The FreeSWITCH side of the engine: Event Socket connections, events, dial strings, causes.

Knows FreeSWITCH; knows nothing of campaigns.
"""
