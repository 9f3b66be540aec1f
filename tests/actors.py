"""Signed-in people for tests: the core refuses writes without a permitted actor."""

from core.access import Actor

STAFF = Actor("Sam at the desk", "staff")
ADMIN = Actor("Olu in operations", "admin")
VIEWER = Actor("Mo the manager", "viewer")
