"""The Repository: Redis keys and the operations the Processor and Webserver use on them."""

from .store import Repository, RepositoryError, tokens_of

__all__ = ["Repository", "RepositoryError", "tokens_of"]
