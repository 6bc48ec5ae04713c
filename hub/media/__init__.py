"""Media: decoding and fetching what senders attach, and inbound files in HUB_UPLOADS_DIR."""
