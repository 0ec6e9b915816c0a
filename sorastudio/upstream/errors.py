from __future__ import annotations


class UpstreamError(Exception):
    """A failed call to a video API. Each client raises its own subclass; the pipeline only needs these
    fields: `retryable` says whether the same call may succeed later, `retry_after` is the upstream's own
    hint in seconds, and `sent` is False only when the request certainly never reached the upstream
    (connection refused): retrying a submission is then safe, while after a read timeout it may already
    have been accepted."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        trace_id: str = "",
        retryable: bool = False,
        retry_after: float | None = None,
        sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.trace_id = trace_id
        self.retryable = retryable
        self.retry_after = retry_after
        self.sent = sent

    def __str__(self) -> str:
        parts = [self.message]
        if self.status:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(f"code={self.code}")
        if self.trace_id:
            parts.append(f"trace_id={self.trace_id}")
        return " ".join(parts)
