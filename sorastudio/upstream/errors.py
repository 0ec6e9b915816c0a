from __future__ import annotations

import re


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


# The one code a refusal is stored under, whatever the upstream called it: both APIs often refuse with a
# generic code (AceDataCloud's `api_error`, a bare Sora2API errorCode), and only their words say why.
REFUSAL_CODE = "content_policy_violation"

# Wordings of a content refusal, in codes (underscores read as spaces) and messages, English and Chinese.
# Each needs the context that makes it a refusal ("moderation", not "moderate load"; "prohibited content",
# not "access prohibited"): a creator told to reword a prompt over an ordinary outage would be misled.
_REFUSAL_WORDING = re.compile(
    r"""
      \b(?:content|usage|safety|acceptable\W+use|community)\W+polic(?:y|ies)
    | \bviolat\w*\W+(?:\w+\W+){0,3}?(?:polic|guideline|terms|community\W+standards|guardrail)
    | \bmoderat(?:ion|ed|or)\b
    | \breal\W+(?:people|persons?|humans?|individuals?|faces?)\b
    | \b(?:public|famous|well\W+known)\W+(?:figures?|people|persons?)\b
    | \bcelebrit(?:y|ies)\b | \blikeness\b
    | \bsafety\b | \bguardrails?\b
    | \bprohibited\W+(?:content|material|subjects?|words?|terms?|images?|topics?)\b
    | \bcontains?\W+prohibited\b
    | \bcopyright(?:s|ed)?\b | \btrademark(?:s|ed)?\b | \bintellectual\W+property\b
    | \bbrand\W+(?:logos?|names?|marks?)\b | \blogos?\b | \bthird\W+party\W+content\b
    | \bnsfw\b | \bsexual\b | \bnudity\b | \bexplicit\W+content\b | \bgraphic\W+violence\b
    | \bsensitive\W+(?:content|words?|terms?|information|images?|material|topics?)\b
    | \binappropriate\W+(?:content|material|images?|prompts?|language)\b | \bflagged\b
    | \bcontent\W+filter | \bfiltered\W+(?:out\W+)?(?:by|for)\b
    | 违规 | 违反 | 敏感 | 审核 | 真人 | 版权 | 内容政策 | 安全策略
    """,
    re.IGNORECASE | re.VERBOSE,
)


# Codes that say exactly what went wrong, and not a refusal, whatever their message adds ("rate limit of
# the usage policy"): the studio's own words for them are more useful.
_NEVER_REFUSALS = frozenset(
    {
        "too_many_requests",
        "used_up",
        "insufficient_credits",
        "invalid_token",
        "token_expired",
        "no_token",
        "token_mismatched",
        "disabled",
        "no_api",
        "api_not_implemented",
        "link_expired",
    }
)


def is_refusal(code: object, message: object) -> bool:
    """Whether a failed task (or call) was refused for what it shows, judged from the upstream's code and
    its message alike, since either may be the only one that says so."""
    if str(code or "") in _NEVER_REFUSALS:
        return False
    text = f"{code or ''} {message or ''}".replace("_", " ").replace("-", " ")
    return bool(_REFUSAL_WORDING.search(text))


def refusal_or(code: str, message: str) -> str:
    """REFUSAL_CODE for a refusal, else the code as it came."""
    return REFUSAL_CODE if is_refusal(code, message) else code
