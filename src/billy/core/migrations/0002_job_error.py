from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("procrastinate", "0041_post_retry_failed_job"),
    ]

    operations = [
        migrations.CreateModel(
            name="JobError",
            fields=[
                (
                    "job",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="error",
                        serialize=False,
                        to="procrastinate.procrastinatejob",
                    ),
                ),
                ("error", models.CharField(help_text="Exception type and message.", max_length=512)),
                ("traceback", models.TextField(blank=True)),
                ("attempt", models.PositiveIntegerField(help_text="The attempt that failed (1 for the first).")),
                ("failed_at", models.DateTimeField()),
            ],
            options={"db_table": "job_error"},
        ),
        # The row goes with its job (Procrastinate may delete old jobs).
        migrations.RunSQL(
            "ALTER TABLE job_error ADD CONSTRAINT job_error_job_fk FOREIGN KEY (job_id) "
            "REFERENCES procrastinate_jobs (id) ON DELETE CASCADE",
            "ALTER TABLE job_error DROP CONSTRAINT job_error_job_fk",
        ),
        # The admin's failed and retrying jobs, found without reading every job ever run.
        migrations.RunSQL(
            "CREATE INDEX billy_jobs_failed_idx ON procrastinate_jobs (id) WHERE status = 'failed'",
            "DROP INDEX billy_jobs_failed_idx",
        ),
        migrations.RunSQL(
            "CREATE INDEX billy_jobs_retrying_idx ON procrastinate_jobs (id) WHERE status = 'todo' AND attempts > 0",
            "DROP INDEX billy_jobs_retrying_idx",
        ),
    ]
