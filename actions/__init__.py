"""Custom actions for the Rasa server, run by the rasa_sdk action server (Python 3.11)."""
