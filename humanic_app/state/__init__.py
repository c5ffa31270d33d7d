"""Reflex states: they call services and hold UI state; they never hold SQL."""
