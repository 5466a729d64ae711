"""Tests of aidoffice.ui."""
