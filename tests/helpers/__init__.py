"""Helpers shared by the tests: database builders."""
