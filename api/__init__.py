"""The edges of comptune: the command line now, the HTTP service later."""
