"""HTTP and WebSocket edges: one router per area, no business logic."""
