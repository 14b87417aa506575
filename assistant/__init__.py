"""On the Record: answers about news articles, only in verbatim, attributed quotes."""

__version__ = "0.1.0"
