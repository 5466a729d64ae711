"""Tests of aidoffice.formats."""
