"""Messaging channels: one package per platform behind the `Channel` interface."""
