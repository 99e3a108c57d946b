"""The admin login is throttled: repeated wrong passwords lock the username out, right one included."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.management import call_command

PASSWORD = "operator-password-1"


@pytest.fixture
def operator(transactional_db, settings):
    settings.AXES_FAILURE_LIMIT = 3
    return User.objects.create_superuser("operator", "op@example.ru", PASSWORD)


def log_in(client, password):
    return client.post("/admin/login/?next=/admin/", {"username": "operator", "password": password})


def lock_out(client):
    """Three wrong passwords: the form again with its error, twice, then the lockout."""
    assert [log_in(client, "wrong").status_code for _ in range(3)] == [200, 200, 429]
    assert AccessAttempt.objects.get(username="operator").failures_since_start == 3


def test_the_right_password_logs_in(client, operator):
    answer = log_in(client, PASSWORD)

    assert (answer.status_code, answer["Location"]) == (302, "/admin/")


def test_after_the_failure_limit_even_the_right_password_is_refused(client, operator):
    lock_out(client)

    answer = log_in(client, PASSWORD)

    assert answer.status_code == 429
    assert client.get("/admin/").status_code == 302  # still not logged in: back to the login page


def test_a_lockout_ends_after_the_cool_off(client, operator, settings):
    lock_out(client)
    # The cool-off counts from the last failure: make that failure older than the cool-off.
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME)

    assert log_in(client, PASSWORD).status_code == 302


def test_an_operator_unlocks_a_username(client, operator):
    lock_out(client)

    call_command("axes_reset_username", "operator")

    assert log_in(client, PASSWORD).status_code == 302


def test_another_username_is_not_locked_out(client, operator):
    User.objects.create_superuser("second", "second@example.ru", PASSWORD)
    lock_out(client)

    answer = client.post("/admin/login/?next=/admin/", {"username": "second", "password": PASSWORD})

    assert answer.status_code == 302
