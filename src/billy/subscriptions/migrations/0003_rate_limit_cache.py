"""The rate limiter's cache table (CACHES["rate_limit"], Django's database cache): the per-source
counters of the provider webhooks, shared by every HTTP process. UNLOGGED: a counter lost in a
crash costs nothing, and a write skips the WAL."""

from django.db import migrations

CREATE = """
CREATE UNLOGGED TABLE rate_limit_cache (
    cache_key varchar(255) NOT NULL PRIMARY KEY,
    value text NOT NULL,
    expires timestamp with time zone NOT NULL
);
CREATE INDEX rate_limit_cache_expires ON rate_limit_cache (expires);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('subscriptions', '0002_ignored_notification'),
    ]

    operations = [
        migrations.RunSQL(CREATE, reverse_sql="DROP TABLE rate_limit_cache;"),
    ]
