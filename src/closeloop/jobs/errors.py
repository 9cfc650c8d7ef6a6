"""Errors of the job queue's administration, each with a stable code."""

from __future__ import annotations

from typing import Any

from closeloop.kit.errors import Conflict, NotFound
from closeloop.kit.i18n import _


class JobNotFound(NotFound):
    code = "job.not_found"
    message = _("Job {job_id} does not exist.")


class JobNotRetryable(Conflict):
    code = "job.not_retryable"
    title = _("Job not retryable")
    message = _("Job {job_id} is {status}; only dead or failed jobs can be retried.")

    def __init__(self, *, job_id: int, status: str) -> None:
        self.job_status = status
        super().__init__(job_id=job_id, status=status)

    def extensions(self) -> dict[str, Any]:
        # Not "status": in problem+json that member is the HTTP status code.
        return {"job_status": self.job_status}
