"""Tests of aidoffice.domain."""
