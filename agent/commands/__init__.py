"""Owners' commands: specs, parsing (slash and natural phrasing), permissions and handlers."""
