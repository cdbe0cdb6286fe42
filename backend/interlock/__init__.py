"""Interlock: a WebSocket-first session server for human-in-the-loop lab tasks."""

__version__ = "0.1.0"
