# Indexes for lists newest first by (created_at, id), built without locking out writers.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('clients', '0001_initial'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='client',
            index=models.Index(fields=['workspace', '-created_at', '-id'], name='client_ws_created_idx'),
        ),
        AddIndexConcurrently(
            model_name='client',
            index=models.Index(fields=['workspace', 'status', '-created_at', '-id'], name='client_ws_status_created_idx'),
        ),
    ]
