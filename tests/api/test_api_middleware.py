"""The API's middleware chain (API_MIDDLEWARE, used by `billy serve` for requests under /api/) is the
full chain less what only the admin uses: an API request behaves as it would through the full one."""

from django.conf import settings

from billy.api.http.server import BillyWSGIHandler

ADMIN_ONLY = {
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
}


def test_the_api_chain_is_the_full_chain_less_the_admins_own():
    assert settings.API_MIDDLEWARE == [m for m in settings.MIDDLEWARE if m not in ADMIN_ONLY]


def test_the_handler_leaves_the_full_chain_to_the_rest():
    full = list(settings.MIDDLEWARE)
    BillyWSGIHandler()
    assert settings.MIDDLEWARE == full
