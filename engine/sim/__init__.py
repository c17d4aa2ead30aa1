"""The switch simulator: a FreeSWITCH stand-in speaking the inbound Event Socket protocol."""
