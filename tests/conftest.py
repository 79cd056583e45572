"""Shared fixtures: one real Chromium for the whole session, a fresh page per test."""

from __future__ import annotations

import pytest

from envs.browser import Browser, BrowserEnv


@pytest.fixture(scope="session")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture
def make_env(browser):
    made = []

    def make(task=None, **kw):
        env = BrowserEnv(task, browser=browser, **kw)
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()
