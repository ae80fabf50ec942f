"""Pure domain logic (no Rasa, no database): rules and parsers the actions call."""
