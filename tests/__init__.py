"""Tests mirror the package: domain, store, services, formats, ui."""
