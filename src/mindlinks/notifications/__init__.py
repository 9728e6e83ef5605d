"""Notifications: the in-app inbox, email and SMS deliveries, preferences, templates and
live updates (SSE). The domain only reacts: it subscribes to other domains' events and
reads downward (auth, contractors) to find recipients; no domain imports it."""
