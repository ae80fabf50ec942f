"""The staff console at /console: sign-in, live queue, conversations, staff actions."""

from gateway.console.views import Console

__all__ = ["Console"]
