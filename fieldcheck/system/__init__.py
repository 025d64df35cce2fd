"""Health and status endpoints."""
