"""The daemon's control API: HTTP+JSON agent actions and a server-sent-event stream."""
