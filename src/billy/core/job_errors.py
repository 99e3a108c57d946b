"""The worker's record of why a job's attempt failed.

Procrastinate logs a failed attempt and keeps only the job's status and attempt count. billy's
worker runs every job inside `record_job_error`, which writes the attempt's error (type, message,
traceback) to `job_error` before Procrastinate decides to retry or give up; the admin shows it
next to the job. One row per job, overwritten by each failed attempt: the last error is the one
an operator acts on.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback as traceback_module

from billy.core.database import is_connection_failure

logger = logging.getLogger(__name__)

ERROR_LENGTH = 512
TRACEBACK_LENGTH = 20_000

_UPSERT = """
INSERT INTO job_error (job_id, error, traceback, attempt, failed_at)
VALUES (%(job_id)s, %(error)s, %(traceback)s, %(attempt)s, %(failed_at)s)
ON CONFLICT (job_id) DO UPDATE
   SET error = EXCLUDED.error, traceback = EXCLUDED.traceback, attempt = EXCLUDED.attempt,
       failed_at = EXCLUDED.failed_at
"""


def describe(error: BaseException) -> tuple[str, str]:
    """(one line: type and message, the traceback), cut to what the table keeps."""
    message = " ".join(str(error).split())
    line = f"{type(error).__name__}: {message}" if message else type(error).__name__
    text = "".join(traceback_module.format_exception(error))
    return line[:ERROR_LENGTH], text[-TRACEBACK_LENGTH:]


async def record_job_error(call_next, context, worker):
    """Procrastinate worker middleware: run the job; if it raises, write why, then let it raise."""
    try:
        return await call_next()
    except Exception as e:
        error, text = describe(e)
        try:
            await worker.app.connector.execute_query_async(
                _UPSERT,
                job_id=context.job.id,
                error=error,
                traceback=text,
                attempt=context.job.attempts + 1,
                failed_at=dt.datetime.now(dt.UTC),
            )
        except Exception as write_error:  # noqa: BLE001 (the job's own error is the one to raise)
            # A lost database is already said once by the worker; anything else is worth a line.
            if not is_connection_failure(write_error):
                logger.warning("could not record the error of job %s: %s", context.job.id, write_error)
        raise
