# Indexes for lists newest first by (created_at, id), built without locking out writers.

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('charges', '0003_charge_metadata'),
    ]

    operations = [
        RemoveIndexConcurrently(
            model_name='charge',
            name='charge_client_idx',
        ),
        AddIndexConcurrently(
            model_name='charge',
            index=models.Index(fields=['client', '-created_at', '-id'], name='charge_client_created_idx'),
        ),
        AddIndexConcurrently(
            model_name='charge',
            index=models.Index(fields=['workspace', '-created_at', '-id'], name='charge_ws_created_idx'),
        ),
        AddIndexConcurrently(
            model_name='charge',
            index=models.Index(fields=['workspace', 'status', '-created_at', '-id'], name='charge_ws_status_created_idx'),
        ),
        AddIndexConcurrently(
            model_name='charge',
            index=models.Index(fields=['workspace', 'product', '-created_at', '-id'], name='charge_ws_product_created_idx'),
        ),
    ]
