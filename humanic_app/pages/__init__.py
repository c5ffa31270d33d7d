"""One module per page (or group of simple pages)."""
