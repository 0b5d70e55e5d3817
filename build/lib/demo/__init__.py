"""The demonstration `make run` plays: a one-stop day in a merged province, through the API."""
