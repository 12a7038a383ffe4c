"""Errors a user can cause. The CLI prints them as one line and exits non-zero."""


class AdpilotError(Exception):
    """Base of every error that is the user's input or environment, not a bug."""

    exit_code = 1


class UnknownAccountError(AdpilotError):
    """An account name that no store or connector knows."""


class SandboxMissingError(AdpilotError):
    """The sandbox database is absent or unreadable."""


class ReadOnlyAccountError(AdpilotError):
    """An imported report account was asked to change."""


class PolicyError(AdpilotError):
    """A policy file that does not parse or validate."""


class ReportFormatError(AdpilotError):
    """A search-term export that cannot be read; the message names file, line and field."""


class StaleApprovalError(AdpilotError):
    """An approval for a change that is already applied, unknown, or whose hash changed."""


class PlatformError(AdpilotError):
    """An ad platform refused a request (credentials, permission, quota, invalid operation, network)."""


class ConfigurationError(AdpilotError):
    """Settings that are missing or inconsistent."""
