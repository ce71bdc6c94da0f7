"""Importers: convert external data (OpenStreetMap extracts, ...) into twin dataset directories."""
