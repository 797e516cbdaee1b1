"""Browser tests leave nothing behind: after them (this file sorts after other browser files), a test sees no running
event loop, no DJANGO_ALLOW_ASYNC_UNSAFE it did not start with, and the ORM works as in any synchronous test."""

import asyncio
import os

import pytest
from django.contrib.auth import get_user_model

ASYNC_UNSAFE_AT_COLLECTION = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")


@pytest.mark.django_db
def test_no_browser_state_leaks_into_other_tests():
    assert os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE") == ASYNC_UNSAFE_AT_COLLECTION
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    get_user_model().objects.create_user(username="after-the-browser")
    assert get_user_model().objects.filter(username="after-the-browser").exists()
