"""Shared fixtures: every test gets its own user folder, real SQLite files, and offscreen Qt."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.helpers.databases import build_demo, demo_copy, new_office


@pytest.fixture(autouse=True)
def aidoffice_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("AIDOFFICE_HOME", str(home))
    monkeypatch.setenv("AIDOFFICE_BUSY_TIMEOUT_MS", "300")
    return home


@pytest.fixture
def ctx(tmp_path):
    context = new_office(tmp_path / "office.sqlite3")
    yield context
    context.close()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    os.environ.setdefault("AIDOFFICE_HOME", str(folder / "home"))
    return build_demo(folder / "demo.sqlite3")


@pytest.fixture
def demo_ctx(demo_template, tmp_path):
    context = demo_copy(demo_template, tmp_path / "demo.sqlite3")
    yield context
    context.close()
