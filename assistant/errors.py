"""Domain errors. The CLI and the app turn them into one-line messages."""


class AssistantError(Exception):
    """Base class for every error a user should see as a message, not a traceback."""


class ArticleError(AssistantError):
    """An article file cannot be read or holds no usable text."""


class StoreError(AssistantError):
    """The index cannot be opened, built or queried."""


class QuestionError(AssistantError):
    """A question is empty, too long or otherwise unusable."""
