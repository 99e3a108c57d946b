from procrastinate.contrib.django.models import ProcrastinateJob


class FailedJob(ProcrastinateJob):
    """Jobs that gave up (a refusal retrying cannot fix, or a retry limit): the admin lists them and
    retries them on an operator's word."""

    class Meta:
        proxy = True
        verbose_name = "failed job"
