"""Widgets of the review window; each is wired to a ``Session`` by ``app.main_window``."""
