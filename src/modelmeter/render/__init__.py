"""Renderers: each formats a Report and does no arithmetic of its own."""
