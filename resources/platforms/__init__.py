"""Platform clients (X through RapidAPI, Bluesky) with the parsers of their wire formats."""
