"""The gateway: webhooks in, Rasa or staff, replies out."""
