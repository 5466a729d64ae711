"""Tests of aidoffice.services."""
