"""Tests of aidoffice.store."""
